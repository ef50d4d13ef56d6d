"""Cell-level AST visitor: what one cell binds, reads, mutates and deletes in the global namespace.

It only collects; deciding what to replay is the planner's job.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from . import rules
from .calls import (
    classify_call,
    const_str,
    dotted,
    is_namespace_call,
    patched_root,
    root_name,
)
from .functions import pattern_names, scan_class, scan_function, target_names
from .records import CallSite, CellAnalysis, FunctionInfo, SideEffect
from .source import parse_cell

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# (name, names it may share an object with, those of them from before the cell)
_AliasPair = tuple[str, set[str], set[str]]


def _nonempty_literal(node: ast.expr) -> bool:
    """`range(3)`, `[1, 2]`: a loop over it runs at least once, so its target is surely bound."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return bool(node.elts)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(node.value)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, int)
    ):
        return node.args[0].value > 0
    return False


def _alias_sources(value: ast.expr) -> list[str]:
    """Names whose objects `value` may share (a plain reference, a view, a container literal)."""
    if isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)):
        root = root_name(value)
        return [root] if root else []
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return [r for elt in value.elts for r in _alias_sources(elt)]
    if isinstance(value, ast.Dict):
        return [r for v in value.values for r in _alias_sources(v)]
    if isinstance(value, ast.Call) and len(value.args) <= 1 and not value.keywords:
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr in rules.VIEW_METHODS and not value.args:
            return _alias_sources(func.value)  # d.keys(): sees every later change of d
        if isinstance(func, ast.Name) and func.id in rules.VIEW_FUNCTIONS and value.args:
            return _alias_sources(value.args[0])  # iter(xs), memoryview(buf)
    return []


class CellVisitor(ast.NodeVisitor):
    def __init__(self) -> None:
        # names surely bound at this point of the cell, one frame per conditional block
        self.bound: list[set[str]] = [set()]
        self.cond = 0  # > 0 inside code that may not run
        self.defines: dict[str, bool] = {}  # name -> bound on every path
        self.deletes: dict[str, bool] = {}
        self.reads: set[str] = set()
        self.mutates: set[str] = set()
        self.call_mutates: set[str] = set()
        self.imports: set[str] = set()
        # what a bound name is, for people: module, import, class, function, temporary
        self.kinds: dict[str, str] = {}
        self.aliases: list[tuple[str, str]] = []
        self.prior_aliases: list[tuple[str, str]] = []
        # names bound in this cell to objects that existed before it
        self.local_alias: dict[str, set[str]] = {}
        self.functions: dict[str, FunctionInfo] = {}
        self.calls: list[CallSite] = []
        self.constructions: list[tuple[str, str]] = []
        self.dynamic: list[str] = []
        self.side_effects: list[SideEffect] = []
        self.unseeded: list[str] = []
        self._statement_call: ast.Call | None = None

    def result(self) -> CellAnalysis:
        def names(items: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in items if not rules.is_pseudo(n))

        def state(items: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in items if rules.is_pseudo(n))

        sure = [n for n, definite in self.defines.items() if definite]
        maybe = [n for n, definite in self.defines.items() if not definite]
        return CellAnalysis(
            defines=names(sure),
            maybe_defines=names(maybe),
            reads=names(self.reads),
            mutates=names(self.mutates),
            call_mutates=names(self.call_mutates - self.mutates),
            deletes=frozenset(n for n, definite in self.deletes.items() if definite),
            maybe_deletes=frozenset(n for n, definite in self.deletes.items() if not definite),
            imports=frozenset(self.imports),
            kinds=tuple(sorted(self.kinds.items())),
            aliases=tuple(dict.fromkeys(self.aliases)),
            prior_aliases=tuple(dict.fromkeys(self.prior_aliases)),
            functions=tuple(self.functions.values()),
            calls=tuple(self.calls),
            constructions=tuple(self.constructions),
            dynamic=tuple(dict.fromkeys(self.dynamic)),
            side_effects=tuple(dict.fromkeys(self.side_effects)),
            unseeded_rng=tuple(dict.fromkeys(self.unseeded)),
            state_reads=state(self.reads),
            state_changes=state([*maybe, *self.mutates, *self.call_mutates]),
            state_sets=state(sure),
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    def _is_bound(self, name: str) -> bool:
        return name in self.bound[-1]

    def _read(self, name: str) -> None:
        if not self._is_bound(name):
            self.reads.add(name)

    def _mutate(self, name: str | None, *, by_call: bool = False) -> None:
        if name is None:
            return
        if self._is_bound(name):
            # Changing an object this cell created is part of defining it; changing one it
            # only took a new name for (`b = a`, `for row in rows`) changes the original.
            for outer in self.local_alias.get(name, ()):
                self._mutate_outer(outer, by_call=by_call)
            return
        self._mutate_outer(name, by_call=by_call)

    def _mutate_outer(self, name: str, *, by_call: bool) -> None:
        self.reads.add(name)
        (self.call_mutates if by_call else self.mutates).add(name)

    def _outer_objects(self, value: ast.expr) -> set[str]:
        """Names from before this cell whose objects `value` may share."""
        out: set[str] = set()
        for source in _alias_sources(value):
            out |= self.local_alias.get(source, set()) if self._is_bound(source) else {source}
        return out

    def _patch(self, root: str | None) -> None:
        """An attribute set or deleted along a chain from ``root`` (``pd.DataFrame.mean = f``):
        if ``root`` is a library's name (imported here, or before: ``effects`` decides), the
        library changed, for every later cell."""
        if root is not None and (not self._is_bound(root) or root in self.imports):
            self.mutates.add(rules.patch_state(root))

    def _bind(self, name: str, *, maybe: bool = False) -> None:
        self.local_alias.pop(name, None)
        self.bound[-1].add(name)
        sure = self.cond == 0 and not maybe
        self.defines[name] = self.defines.get(name, False) or sure
        if sure:
            self.deletes.pop(name, None)
        elif name in self.deletes:
            self.deletes[name] = False

    def _unbind(self, name: str, *, maybe: bool = False) -> None:
        if self.cond == 0 and not maybe:
            self.bound[-1].discard(name)
            self.defines.pop(name, None)
            self.deletes[name] = True
        else:
            self.deletes.setdefault(name, False)

    def _block(
        self,
        nodes: Iterable[ast.AST],
        bind: Iterable[str] = (),
        aliases: list[_AliasPair] | None = None,
    ) -> set[str]:
        """Visit code that may not run; return the names it surely binds when it does."""
        before = self.bound[-1]
        self.bound.append(set(before))
        self.cond += 1
        for name in bind:
            self._bind(name)
        self._record_aliases(aliases or [])
        for node in nodes:
            self.visit(node)
        self.cond -= 1
        return self.bound.pop() - before

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    # -- binding sites -------------------------------------------------------------------------

    def _target(self, target: ast.expr, *, maybe: bool = False) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, maybe=maybe)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._target(elt, maybe=maybe)
        elif isinstance(target, ast.Starred):
            self._target(target.value, maybe=maybe)
        elif isinstance(target, ast.Subscript) and is_namespace_call(target.value):
            key = const_str(target.slice)
            if key is None:
                self.visit(target.slice)
                self.dynamic.append("globals()[...] with a computed name")
            else:
                self._bind(key, maybe=maybe)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            self.visit(target.value)
            if isinstance(target, ast.Subscript):
                self.visit(target.slice)
            else:
                self._patch(patched_root(dotted(target)))
            self._mutate(root_name(target))
            changed = target.value if isinstance(target, ast.Subscript) else target
            if dotted(changed) in rules.IMPORT_SYSTEM:  # what later imports find
                self._read(rules.SYS_PATH)
                self._bind(rules.SYS_PATH, maybe=True)

    def visit_Constant(self, node: ast.Constant) -> None:
        pass  # skips NodeVisitor's slow deprecation shim for old literal node types

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        if (
            isinstance(node.value, ast.Lambda)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
            self._visit_all([*node.value.args.defaults, *node.value.args.kw_defaults])
            self.functions[name] = scan_function(node.value, name)
            self._bind(name)
            return
        self.visit(node.value)
        value = node.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            self.constructions += [
                (t.id, value.func.id) for t in node.targets if isinstance(t, ast.Name)
            ]
        for target in node.targets:
            pairs = self._alias_pairs(target, node.value)
            self._target(target)
            self._record_aliases(pairs)
        # `a = b = []`: one new object under several names
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        self.aliases += [(name, names[0]) for name in names[1:]]

    def _alias_pairs(self, target: ast.expr, value: ast.expr) -> list[_AliasPair]:
        """Computed before the assignment binds, so `x = x` still sees the outer `x`."""
        if (
            isinstance(target, (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
        ):
            return [
                pair
                for sub_target, sub_value in zip(target.elts, value.elts, strict=True)
                for pair in self._alias_pairs(sub_target, sub_value)
            ]
        names = (
            sorted(target_names(target))
            if isinstance(target, (ast.Tuple, ast.List))
            else ([target.id] if isinstance(target, ast.Name) else [])
        )
        sources = set(_alias_sources(value))
        outer = self._outer_objects(value)
        return [(name, sources, outer) for name in names if sources]

    def _record_aliases(self, pairs: list[_AliasPair]) -> None:
        for name, sources, outer in pairs:
            if outer:
                self.local_alias[name] = set(outer)
            # (x, x) is kept: `x = x` rebinds x to the object it already had
            self.aliases += [(name, source) for source in sorted(sources | outer)]
            self.prior_aliases += [(name, source) for source in sorted(outer)]

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            name = node.target.id
            outer = self.local_alias.get(name, set()) if self._is_bound(name) else {name}
            self._read(name)
            self.visit(node.value)
            # `x += …` changes a mutable x in place, and with it every name sharing x's object
            for shared in outer - {name}:
                self._mutate_outer(shared, by_call=False)
            self._bind(name)
            self._record_aliases([(name, {name}, outer)] if outer else [])
        else:
            self.visit(node.value)
            self._target(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
            pairs = self._alias_pairs(node.target, node.value)
            self._target(node.target)
            self._record_aliases(pairs)
        elif not isinstance(node.target, ast.Name):
            self.visit(node.target.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind(node.target.id)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._read(target.id)
            self._unbind(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._delete(elt)
        elif isinstance(target, ast.Subscript) and is_namespace_call(target.value):
            key = const_str(target.slice)
            if key is None:
                self.dynamic.append("del globals()[...] with a computed name")
            else:
                self._unbind(key)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            self._target(target)

    def visit_Import(self, node: ast.Import) -> None:
        self._read(rules.SYS_PATH)
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self._bind(name)
            self.imports.add(name)
            self.kinds[name] = "module"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._read(rules.SYS_PATH)
        for alias in node.names:
            if alias.name == "*":
                self.dynamic.append(f"from {node.module} import *")
            else:
                name = alias.asname or alias.name
                self._bind(name)
                self.imports.add(name)
                self.kinds[name] = "import"

    def _decorators(self, decorators: list[ast.expr]) -> None:
        """A decorator made by a method call registers what it decorates in its receiver
        (``@pd.api.extensions.register_series_accessor("geo")``, ``@app.route("/")``), a
        module too: later cells that read the receiver depend on the definition."""
        for deco in decorators:
            self.visit(deco)
            if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute):
                self._mutate(root_name(deco.func))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = node.args
        self._decorators(node.decorator_list)
        self._visit_all([*args.defaults, *args.kw_defaults, node.returns])
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                self._visit_all([arg.annotation])
        self.functions[node.name] = scan_function(node, node.name)
        self.kinds[node.name] = "function"
        self._bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._decorators(node.decorator_list)
        self._visit_all([*node.bases, *(k.value for k in node.keywords)])
        # The class body runs now, in its own namespace: its free reads are this cell's reads.
        body = CellVisitor()
        body.bound = [set(self.bound[-1])]
        body.cond = self.cond
        for stmt in node.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body.visit(stmt)
        self.reads |= body.reads
        self.mutates |= body.mutates
        self.call_mutates |= body.call_mutates
        self.side_effects += body.side_effects
        self.dynamic += body.dynamic
        self.functions[node.name] = scan_class(node)
        self.kinds[node.name] = "class"
        self._bind(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        # An anonymous lambda may be called right away (`df.apply(lambda r: r * k)`): count the
        # globals it reads as read here.
        self._visit_all([*node.args.defaults, *node.args.kw_defaults])
        info = scan_function(node, "<lambda>")
        for name in info.global_reads:
            self._read(name)

    # -- control flow --------------------------------------------------------------------------

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        in_body = self._block(node.body)
        if node.orelse:
            in_else = self._block(node.orelse)
            for name in in_body & in_else:
                self._bind(name)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        # a loop variable of the notebook's namespace (comprehensions have their own scope)
        self.kinds.update((name, "temporary") for name in target_names(node.target))
        source = root_name(node.iter)
        outer: set[str] = set()
        if source is not None:
            outer = self.local_alias.get(source, set()) if self._is_bound(source) else {source}
        pairs = [(name, {source}, outer) for name in sorted(target_names(node.target)) if source]
        if _nonempty_literal(node.iter):
            self._target(node.target)
            self._record_aliases(pairs)
            self._block(node.body)
        else:
            self._block(node.body, bind=target_names(node.target), aliases=pairs)
        self._block(node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.visit(node.test)
        self._block(node.body)
        self._block(node.orelse)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._target(item.optional_vars)
                # `with open(...) as f`: f is done with after the block
                self.kinds.update((n, "temporary") for n in target_names(item.optional_vars))
        self._visit_all(node.body)

    visit_AsyncWith = visit_With

    def visit_Try(self, node: ast.Try) -> None:
        self._block(node.body)
        for handler in node.handlers:
            self._visit_all([handler.type])
            prior = self.defines.get(handler.name) if handler.name else None
            self._block(handler.body, bind=[handler.name] if handler.name else [])
            if handler.name:
                # Python unbinds `e` when the handler ends, taking any earlier `e` with it.
                if prior is None:
                    self.defines.pop(handler.name, None)
                else:
                    self.defines[handler.name] = prior
                self._unbind(handler.name, maybe=True)
        self._block(node.orelse)
        self._visit_all(node.finalbody)

    visit_TryStar = visit_Try

    def visit_Match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        for case in node.cases:
            self._block(
                [*([case.guard] if case.guard else []), *case.body],
                bind=pattern_names(case.pattern),
            )

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.visit(node.values[0])
        self._block(node.values[1:])

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._block([node.body])
        self._block([node.orelse])

    def _comprehension(self, node: ast.AST, parts: Sequence[ast.AST]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # evaluated in the cell's scope
        local = set().union(*(target_names(g.target) for g in generators))
        self.bound.append(self.bound[-1] | local)
        self.cond += 1  # a walrus inside binds in the cell, but maybe never
        self._visit_all(generators[0].ifs)
        for gen in generators[1:]:
            self._visit_all([gen.iter, *gen.ifs])
        self._visit_all(parts)
        self.cond -= 1
        self.bound.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    # -- calls -------------------------------------------------------------------------------------

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self._statement_call = node.value
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython"
        ):
            from .magics import visit_magic  # magics need the visitor, the visitor needs them

            visit_magic(self, func.attr, node)
            return
        if isinstance(func, ast.Name) and func.id == "exec" and self._inline_exec(node):
            return
        effect = classify_call(node, statement=node is self._statement_call)
        self.generic_visit(node)
        self._mutate(effect.receiver_mutated, by_call=True)
        self._patch(effect.patched)
        for arg in effect.args_mutated:
            self._mutate(arg)
        for pseudo in effect.rng_used:
            self._mutate(pseudo)
        for name in (*effect.rng_seeded, *effect.dynamic_defines):
            self._bind(name)
        if effect.changes_cwd:
            self.change_cwd()
        if effect.changes_sys_path:
            self._read(rules.SYS_PATH)
            self._bind(rules.SYS_PATH, maybe=True)
        if effect.reads_files:
            self._read(rules.CWD)
        for path in effect.files_read:
            self._read(rules.file_state(path))
        for path in effect.files_written:
            self._mutate(rules.file_state(path))
        if effect.unseeded:
            self.unseeded.append(effect.unseeded)
        self.side_effects += effect.side_effects
        if effect.dynamic:
            self.dynamic.append(effect.dynamic)
        if isinstance(func, ast.Name):
            self.calls.append(
                CallSite(
                    name=func.id,
                    args=tuple(root_name(a) for a in node.args),
                    kwargs=tuple((k.arg, root_name(k.value)) for k in node.keywords if k.arg),
                    conditional=self.cond > 0,
                )
            )

    def change_cwd(self) -> None:
        # `%cd ..` is relative to where it ran: a maybe-binding keeps earlier changes in play
        self._read(rules.CWD)
        self._bind(rules.CWD, maybe=True)

    def _inline_exec(self, node: ast.Call) -> bool:
        """`exec("x = 1")` in the cell's namespace: analyse the string as code."""
        code = const_str(node.args[0]) if node.args else None
        namespace_ok = len(node.args) < 2 or is_namespace_call(node.args[1])
        if code is None or not namespace_ok or node.keywords:
            return False
        try:
            module = parse_cell(code)
        except SyntaxError:
            return False
        self.visit_code(module.body)
        return True

    def visit_code(self, body: Sequence[ast.stmt]) -> None:
        saved = self._statement_call
        for stmt in body:
            self.visit(stmt)
        self._statement_call = saved


def analyze_tree(module: ast.Module) -> CellAnalysis:
    visitor = CellVisitor()
    visitor.visit_code(module.body)
    return visitor.result()


__all__ = ["CellVisitor", "analyze_tree", "rules"]
