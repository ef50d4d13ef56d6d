"""The missing-variable guard: which names would generated code read that nothing provides?

The dataflow package's cell analysis answers (it knows IPython magics and the planner's rules);
what a kernel provides without any cell is the planner's rule too (``rules``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..dataflow import analyze_cell
from ..dataflow.rules import BUILTIN_NAMES, is_kernel_internal


@dataclass(frozen=True)
class CodeNames:
    reads: frozenset[str]  # read from the namespace before the code itself binds them
    late_reads: frozenset[str]  # read inside functions/lambdas, so only when they are called
    defines: frozenset[str]  # bound by the code, conditionally or not


def analyze_names(code: str) -> CodeNames | None:
    """Reads and definitions of ``code``; None if it does not parse."""
    a = analyze_cell(code)
    if a.error is not None:
        return None
    late: set[str] = set()
    written: set[str] = set()
    for fn in a.functions:
        late |= fn.global_reads
        written |= fn.global_writes
    # A name bound only on some paths (a loop body) or by a called function's `global` is given
    # the benefit of the doubt: a guard that cries wolf gets ignored. Pseudo-names (`<cwd>`,
    # `<random>`) are hidden state, not variables a user could lose.
    return CodeNames(
        reads=frozenset(n for n in a.reads - a.maybe_defines - written if n.isidentifier()),
        late_reads=frozenset(n for n in late if n.isidentifier()),
        defines=frozenset(a.defines | a.maybe_defines | a.imports | written),
    )


def missing_names(code: str, live_names: Iterable[str]) -> list[str]:
    """Names ``code`` reads that it does not define first, that are not builtins and not live.

    Sorted. Code that does not parse yields ``[]``: running it will show the SyntaxError, which
    says more than a guard could.
    """
    names = analyze_names(code)
    if names is None:
        return []
    available = BUILTIN_NAMES | set(live_names)
    missing = (names.reads - available) | (names.late_reads - available - names.defines)
    return sorted(n for n in missing if not is_kernel_internal(n))


def used_names(code: str, live_names: Iterable[str]) -> list[str]:
    """The live variables ``code`` reads: the "variables used" of a generated cell's provenance."""
    names = analyze_names(code)
    if names is None:
        return []
    return sorted((names.reads | (names.late_reads - names.defines)) & set(live_names))
