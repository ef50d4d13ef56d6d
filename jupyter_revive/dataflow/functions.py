"""Effects of notebook-defined functions, lambdas and classes on the global namespace.

A `def` cell only binds the function; what the body reads, writes (`global`) and mutates happens
in the cells that call it, so the planner charges those effects to the calling cells.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from . import rules
from .calls import classify_call, const_str, dotted, is_namespace_call, patched_root, root_name
from .records import FunctionInfo, SideEffect

_Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _params(args: ast.arguments) -> list[str]:
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return names


def pattern_names(pattern: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(pattern):
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def scope_bindings(body: Iterable[ast.AST], params: Iterable[str]) -> tuple[set[str], set[str]]:
    """Names a function (or class) body binds locally, and the names it declares global."""
    local, declared = set(params), set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            declared.update(node.names)
            continue
        if isinstance(node, ast.Nonlocal):
            local.update(node.names)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, _COMPREHENSIONS):
            # only walrus targets leak out of a comprehension
            local.update(
                n.target.id
                for n in ast.walk(node)
                if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)
            )
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.match_case):
            local.update(pattern_names(node.pattern))
        stack.extend(ast.iter_child_nodes(node))
    return local - declared, declared


class _BodyScanner(ast.NodeVisitor):
    def __init__(self, name: str, params: Sequence[str], body: Sequence[ast.AST]) -> None:
        local, declared = scope_bindings(body, params)
        self.name = name
        self.params = tuple(params)
        self.scopes: list[set[str]] = [local]
        self.declared = declared
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.deletes: set[str] = set()
        self.mutates: set[str] = set()
        self.mutated_params: set[str] = set()
        self.calls: set[str] = set()
        self.side_effects: list[SideEffect] = []
        self.dynamic = False
        self._statement_call: ast.Call | None = None

    def info(self) -> FunctionInfo:
        def names(items: set[str]) -> frozenset[str]:
            return frozenset(n for n in items if not rules.is_pseudo(n))

        def state(items: set[str]) -> frozenset[str]:
            return frozenset(n for n in items if rules.is_pseudo(n))

        return FunctionInfo(
            name=self.name,
            params=self.params,
            global_reads=names(self.reads),
            global_writes=names(self.writes),
            global_deletes=frozenset(self.deletes),
            global_mutates=names(self.mutates),
            mutated_params=frozenset(self.mutated_params),
            calls=frozenset(self.calls),
            side_effects=tuple(dict.fromkeys(self.side_effects)),
            dynamic=self.dynamic,
            state_reads=state(self.reads),
            state_changes=state(self.writes | self.mutates),
        )

    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def _mutate(self, root: str | None) -> None:
        if root is None:
            return
        if root in self.params and root in self.scopes[0]:
            self.mutated_params.add(root)
        elif not self._local(root):
            self.mutates.add(root)

    def _nested(self, params: Iterable[str], body: Sequence[ast.AST]) -> None:
        local, declared = scope_bindings(body, params)
        self.declared |= declared
        self.scopes.append(local)
        for node in body:
            self.visit(node)
        self.scopes.pop()

    def visit_Constant(self, node: ast.Constant) -> None:
        pass  # skips NodeVisitor's slow deprecation shim for old literal node types

    def visit_Name(self, node: ast.Name) -> None:
        if self._local(node.id):
            return
        if isinstance(node.ctx, ast.Load):
            self.reads.add(node.id)
        elif isinstance(node.ctx, ast.Store):
            self.writes.add(node.id)
        else:
            self.deletes.add(node.id)

    def _defaults(self, args: ast.arguments) -> None:
        for default in (*args.defaults, *args.kw_defaults):
            if default is not None:
                self.visit(default)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self._defaults(node.args)
        self._nested(_params(node.args), node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._defaults(node.args)
        self._nested(_params(node.args), [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(expr)
        self._nested((), node.body)

    def _comprehension(self, node: ast.AST, parts: Sequence[ast.AST]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.scopes.append(set().union(*(target_names(g.target) for g in generators)))
        for gen in generators:
            self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        for part in parts:
            self.visit(part)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _store_target(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            if isinstance(target, ast.Subscript) and is_namespace_call(target.value):
                key = const_str(target.slice)
                if key is None:
                    self.dynamic = True
                else:
                    self.writes.add(key)
            else:
                if isinstance(target, ast.Attribute):
                    self._patch(patched_root(dotted(target)))
                self._mutate(root_name(target))

    def _patch(self, root: str | None) -> None:
        """As the cell visitor's: a global's attribute chain changed (``effects`` keeps it if
        the global is a library's name)."""
        if root is not None and not self._local(root):
            self.mutates.add(rules.patch_state(root))

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            for part in _outer(target):
                self._store_target(part)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name) and not self._local(node.target.id):
            self.reads.add(node.target.id)
        self._store_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._store_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._store_target(target)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self._statement_call = node.value
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        effect = classify_call(node, statement=node is self._statement_call)
        self._mutate(effect.receiver_mutated)
        self._patch(effect.patched)
        for arg in effect.args_mutated:
            self._mutate(arg)
        self.reads |= effect.rng_used
        self.mutates |= effect.rng_used
        self.writes |= effect.rng_seeded | set(effect.dynamic_defines)
        if effect.changes_cwd:
            self.writes.add(rules.CWD)
        if effect.reads_files:
            self.reads.add(rules.CWD)
        self.side_effects += effect.side_effects
        self.dynamic = self.dynamic or effect.dynamic is not None
        if isinstance(node.func, ast.Name) and not self._local(node.func.id):
            self.calls.add(node.func.id)
        self.generic_visit(node)


def _outer(target: ast.expr) -> list[ast.expr]:
    """Assignment targets proper: the elements of tuple/list targets, not their sub-expressions."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for elt in target.elts for t in _outer(elt)]
    if isinstance(target, ast.Starred):
        return _outer(target.value)
    return [target]


def scan_function(node: _Function, name: str) -> FunctionInfo:
    body: Sequence[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else node.body
    scanner = _BodyScanner(name, _params(node.args), body)
    for stmt in body:
        scanner.visit(stmt)
    return scanner.info()


def scan_class(node: ast.ClassDef) -> FunctionInfo:
    """A class as one callable: instantiating it (or calling its methods) may run any method."""
    methods = [
        scan_function(stmt, stmt.name)
        for stmt in node.body
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return merge_infos(node.name, methods)


def merge_infos(name: str, infos: Sequence[FunctionInfo]) -> FunctionInfo:
    def union(attr: str) -> frozenset[str]:
        return frozenset().union(*(getattr(info, attr) for info in infos))

    return FunctionInfo(
        name=name,
        params=(),
        global_reads=union("global_reads") - {name},
        global_writes=union("global_writes"),
        global_deletes=union("global_deletes"),
        global_mutates=union("global_mutates"),
        mutated_params=frozenset(),
        calls=union("calls"),
        side_effects=tuple(dict.fromkeys(e for info in infos for e in info.side_effects)),
        dynamic=any(info.dynamic for info in infos),
        is_class=True,
        state_reads=union("state_reads"),
        state_changes=union("state_changes"),
    )
