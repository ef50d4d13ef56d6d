"""Immutable records the cell analysis produces and the planner consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SideEffectKind = Literal["shell", "install", "file-write", "network"]


@dataclass(frozen=True)
class SideEffect:
    kind: SideEffectKind
    detail: str


@dataclass(frozen=True)
class CallSite:
    """A call of a plain name at cell level, resolved against notebook functions when planning."""

    name: str
    args: tuple[str | None, ...]  # root name of each positional argument, if it is one
    kwargs: tuple[tuple[str, str | None], ...]
    conditional: bool


@dataclass(frozen=True)
class FunctionInfo:
    """What calling a notebook function (or instantiating a class) does to globals."""

    name: str
    params: tuple[str, ...]
    global_reads: frozenset[str]
    global_writes: frozenset[str]  # names declared `global` and bound
    global_deletes: frozenset[str]
    global_mutates: frozenset[str]
    mutated_params: frozenset[str]
    calls: frozenset[str]
    side_effects: tuple[SideEffect, ...]
    dynamic: bool
    is_class: bool = False  # methods' effects, charged to every use of its instances
    state_reads: frozenset[str] = frozenset()  # hidden state, as in CellAnalysis
    state_changes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CellAnalysis:
    """Static effects of one cell's code, as seen from the notebook's global namespace.

    `reads` are free reads: names used before (or without) the cell binding them itself.
    `maybe_defines` are bound on some paths only (inside if/for/try, by comprehension walrus),
    so an earlier value may survive. `call_mutates` are receivers of method calls assumed to
    mutate; the planner ignores them when the receiver is an imported module (`plt.plot()`).
    """

    defines: frozenset[str] = frozenset()
    maybe_defines: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    mutates: frozenset[str] = frozenset()
    call_mutates: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    maybe_deletes: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()
    # (name, kind) for names that are not plain data: module, import, class, function, temporary
    kinds: tuple[tuple[str, str], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (name, name whose object it may share)
    # the subset whose object existed before the cell ran (`b = a` with `a` from earlier)
    prior_aliases: tuple[tuple[str, str], ...] = ()
    functions: tuple[FunctionInfo, ...] = ()
    calls: tuple[CallSite, ...] = ()
    constructions: tuple[tuple[str, str], ...] = ()  # `x = Name(...)`: (x, Name)
    dynamic: tuple[str, ...] = ()  # why the cell may bind names we cannot see
    side_effects: tuple[SideEffect, ...] = ()
    unseeded_rng: tuple[str, ...] = ()  # generators constructed without a seed
    error: str | None = None  # set when the code does not parse; the cell is then opaque
    # Hidden interpreter state (rules.PY_RANDOM, NP_RANDOM, CWD, SYS_PATH), kept out of the
    # name sets above so that they hold variable names only.
    state_reads: frozenset[str] = frozenset()
    state_changes: frozenset[str] = frozenset()  # advanced or changed relative to before
    state_sets: frozenset[str] = frozenset()  # set outright (`np.random.seed(0)`)

    @property
    def parsed(self) -> bool:
        return self.error is None
