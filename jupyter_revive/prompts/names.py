"""The missing-variable guard: which names would generated code read that nothing provides?

Uses the dataflow package's cell analysis when it is importable (it knows IPython magics and the
planner's rules); otherwise a small ``ast`` analysis in this module, so prompt cells keep working
while dataflow is absent or broken.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass

# Names that exist in every IPython user namespace without being builtins.
_IPYTHON_NAMES = frozenset({"get_ipython", "display", "In", "Out", "exit", "quit", "__file__"})
BUILTIN_NAMES = frozenset(dir(builtins)) | _IPYTHON_NAMES


@dataclass(frozen=True)
class CodeNames:
    reads: frozenset[str]  # read from the namespace before the code itself binds them
    late_reads: frozenset[str]  # read inside functions/lambdas, so only when they are called
    defines: frozenset[str]  # bound by the code, conditionally or not


def analyze_names(code: str) -> CodeNames | None:
    """Reads and definitions of ``code``; None if it does not parse."""
    result = _with_dataflow(code)
    if result is not None:
        return result
    return _fallback(code)


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
    return sorted(missing)


def used_names(code: str, live_names: Iterable[str]) -> list[str]:
    """The live variables ``code`` reads: the "variables used" of a generated cell's provenance."""
    names = analyze_names(code)
    if names is None:
        return []
    return sorted((names.reads | (names.late_reads - names.defines)) & set(live_names))


def _with_dataflow(code: str) -> CodeNames | None:
    try:
        from ..dataflow import analyze_cell
    except ImportError:
        return None
    try:
        a = analyze_cell(code)
        if a.error is not None:
            return _fallback(code)  # unparsable: the fallback answers None the same way
        late: set[str] = set()
        written: set[str] = set()
        for fn in a.functions:
            late |= fn.global_reads
            written |= fn.global_writes
        # A name bound only on some paths (a loop body) or by a called function's `global` is
        # given the benefit of the doubt: a guard that cries wolf gets ignored.
        # Pseudo-names (`<cwd>`, `<random>`) are hidden state, not variables a user could lose.
        return CodeNames(
            reads=frozenset(n for n in a.reads - a.maybe_defines - written if n.isidentifier()),
            late_reads=frozenset(n for n in late if n.isidentifier()),
            defines=frozenset(a.defines | a.maybe_defines | a.imports | written),
        )
    except Exception:
        # dataflow is another part's moving target: never let it break the guard.
        return None


# --- fallback ---------------------------------------------------------------------------------


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        manager = TransformerManager()  # type: ignore[no-untyped-call]
        return ast.parse(manager.transform_cell(code))
    except Exception:
        return None


def _fallback(code: str) -> CodeNames | None:
    module = _parse(code)
    if module is None:
        return None
    visitor = _Events()
    visitor.visit(module)
    bound: set[str] = set()
    reads: set[str] = set()
    # Python evaluates the right-hand side before binding the target; events carry the position
    # at which they take effect, so sorting them replays the order of execution closely enough.
    for _, kind, name in sorted(visitor.events, key=lambda e: (e[0], e[1] == "bind")):
        if kind == "bind":
            bound.add(name)
        elif name not in bound:
            reads.add(name)
    late: set[str] = set()
    for scope in visitor.scopes:
        late |= _free_names(scope)
    return CodeNames(
        reads=frozenset(reads - visitor.global_writes),
        late_reads=frozenset(late),
        defines=frozenset(bound | visitor.global_writes),
    )


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


def _start(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0) or 0, getattr(node, "col_offset", 0) or 0)


class _Events(ast.NodeVisitor):
    """Module-level reads and bindings with positions; nested function bodies set aside."""

    def __init__(self) -> None:
        self.events: list[tuple[tuple[int, int], str, str]] = []
        self.scopes: list[ast.AST] = []
        self.global_writes: set[str] = set()

    def _bind_targets(self, targets: Iterable[ast.AST], at: tuple[int, int]) -> None:
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self.events.append((at, "bind", node.id))
            # Subscript/attribute targets read their base (`df["a"] = 1` needs df).
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    self.events.append((_start(node), "read", node.id))

    def visit_Name(self, node: ast.Name) -> None:
        kind = "read" if isinstance(node.ctx, ast.Load | ast.Del) else "bind"
        self.events.append((_start(node), kind, node.id))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        self._bind_targets(node.targets, _end(node))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind_targets([node.target], _end(node))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.events.append((_start(node.target), "read", node.target.id))
            self.events.append((_end(node), "bind", node.target.id))
        else:
            self._bind_targets([node.target], _end(node))

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.events.append((_end(node), "bind", node.target.id))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._bind_targets([node.target], _end(node.iter))
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                name = alias.asname or alias.name.split(".")[0]
                self.events.append((_start(node), "bind", name))

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.events.append((_start(node), "bind", node.name))
        for stmt in node.body:
            self.visit(stmt)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self.events.append((_start(node), "bind", node.name))

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.events.append((_start(node), "bind", node.name))

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self.events.append((_start(node), "bind", node.rest))

    def _visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for dec in node.decorator_list:
            self.visit(dec)
        if isinstance(node, ast.ClassDef):
            for base in [*node.bases, *(k.value for k in node.keywords)]:
                self.visit(base)
            # A class body runs at once; its own bindings stay in the class namespace.
            self.scopes.append(node)
        else:
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
                self.visit(default)
            self.scopes.append(node)
            self.global_writes |= _declared_globals(node)
        self.events.append((_start(node), "bind", node.name))

    visit_FunctionDef = _visit_def
    visit_AsyncFunctionDef = _visit_def
    visit_ClassDef = _visit_def

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
            self.visit(default)
        self.scopes.append(node)

    def _visit_comprehension(self, node: ast.AST) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        # The first iterable is evaluated in the enclosing scope; the rest in the comprehension.
        self.visit(generators[0].iter)
        self.scopes.append(node)

    visit_ListComp = _visit_comprehension
    visit_SetComp = _visit_comprehension
    visit_GeneratorExp = _visit_comprehension
    visit_DictComp = _visit_comprehension


def _declared_globals(scope: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Global):
            names.update(node.names)
    return names


def _free_names(scope: ast.AST) -> set[str]:
    """Names a nested scope loads but does not bind itself (over all the scopes nested in it).

    Over-approximates the scope's locals (any binding anywhere inside counts), which can only
    hide a missing name, never invent one: a guard that cries wolf would be ignored.
    """
    local: set[str] = set()
    loads: set[str] = set()
    declared = _declared_globals(scope)
    for node in ast.walk(scope):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else local).add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node is not scope:
                local.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            local.update((a.asname or a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
    return loads - (local - declared)
