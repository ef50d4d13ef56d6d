"""Classification of a single call expression: mutation, randomness, side effects, dynamics."""

from __future__ import annotations

import ast
import posixpath
from dataclasses import dataclass, field

from . import rules
from .records import SideEffect


@dataclass
class CallEffect:
    receiver_mutated: str | None = None  # root name of a method call assumed to mutate it
    args_mutated: list[str] = field(default_factory=list)
    rng_used: set[str] = field(default_factory=set)  # pseudo-names read and advanced
    rng_seeded: set[str] = field(default_factory=set)
    unseeded: str | None = None
    side_effects: list[SideEffect] = field(default_factory=list)
    dynamic: str | None = None
    dynamic_defines: list[str] = field(default_factory=list)  # setattr(main module, "x", ...)
    patched: str | None = None  # setattr(pd.DataFrame, ...): ``patched_root`` of its target
    changes_cwd: bool = False
    changes_sys_path: bool = False
    reads_files: bool = False
    # Files named by a literal relative path (as the tracker records them, see ``literal_path``):
    # what C code reads and writes (parquet through pyarrow, HDF5) no wrapped function sees.
    files_written: list[str] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)


def dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def patched_root(path: str | None) -> str | None:
    """The name that starts ``path``, the dotted attribute a store or delete changes
    (``pd.DataFrame.mean`` gives ``pd``); None for a plain name or no path, and for a library's
    options (``pd.options.display.precision``: the tracker observes those as settings). Whether
    that name is a library's is for ``effects`` to say."""
    parts = path.split(".") if path else []
    if len(parts) < 2 or (len(parts) > 2 and parts[1] in rules.OPTION_ATTRIBUTES):
        return None
    return parts[0]


def _patched_through(owner: ast.expr, attr: str | None) -> str | None:
    """``patched_root`` of ``setattr(owner, attr, ...)`` and ``delattr``."""
    path = dotted(owner)
    return patched_root(f"{path}.{attr or '_'}") if path else None


def root_name(node: ast.expr) -> str | None:
    """The variable an attribute/subscript/method-call chain starts from (`df` in `df.a[0].b()`)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        else:
            return None


def const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def literal_path(node: ast.expr | None) -> str | None:
    """A string constant that reads as a relative file path, normalized the way the tracker
    records paths under the notebook's folder (``data/x.parquet``); None for anything else
    (absolute or home paths, which the tracker may record otherwise, URLs, globs, text)."""
    text = const_str(node)
    if not text or len(text) > 1024 or text.startswith(("/", "~")) or "://" in text:
        return None
    if any(c in text for c in '\n{}<>|*?"'):
        return None
    path = posixpath.normpath(text.replace("\\", "/"))
    return None if path == "." or path.startswith("../") or path == ".." else path


def _path_args(call: ast.Call, positions: int) -> list[str]:
    """Literal paths among the first ``positions`` arguments and the path keywords."""
    nodes = [*call.args[:positions], *(kw.value for kw in call.keywords if kw.arg in _PATH_KWARGS)]
    return [p for p in map(literal_path, nodes) if p is not None]


_PATH_KWARGS = frozenset({"path", "path_or_buf", "fname", "filename", "file"})


def is_namespace_call(node: ast.expr) -> bool:
    """`globals()` or `vars()`/`locals()` without arguments (the module namespace at cell level)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"globals", "vars", "locals"}
        and not node.args
        and not node.keywords
    )


def is_main_module(node: ast.expr) -> bool:
    """`sys.modules[__name__]` or `sys.modules["__main__"]`."""
    if not (isinstance(node, ast.Subscript) and dotted(node.value) == "sys.modules"):
        return False
    key = node.slice
    return (isinstance(key, ast.Name) and key.id == "__name__") or const_str(key) == "__main__"


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _rng_call(call: ast.Call, name: str, effect: CallEffect) -> bool:
    """Global generators: `random.x()`, `np.random.x()`. Returns True when handled."""
    module, _, fn = name.rpartition(".")
    if module == "random":
        pseudo = rules.PY_RANDOM
    elif module in {"np.random", "numpy.random"}:
        pseudo = rules.NP_RANDOM
    else:
        return False
    if fn in rules.RNG_CONSTRUCTORS:
        if not call.args and not call.keywords and fn != "SystemRandom":
            effect.unseeded = f"{name}()"
    elif fn in {"seed", "set_state", "setstate"}:
        effect.rng_seeded.add(pseudo)
    elif fn not in {"get_state", "getstate"}:
        effect.rng_used.add(pseudo)
        if fn == "shuffle" and call.args and (arg := root_name(call.args[0])):
            effect.args_mutated.append(arg)
    return True


def _side_effects(call: ast.Call, name: str | None, method: str | None) -> list[SideEffect]:
    found: list[SideEffect] = []
    label = name or (f".{method}()" if method else "call")
    if name and name.startswith(rules.SHELL_PREFIXES):
        found.append(SideEffect("shell", f"{name}()"))
    if name and (name.startswith(rules.NETWORK_PREFIXES) or name in {"urlopen", "urlretrieve"}):
        found.append(SideEffect("network", f"{name}()"))
    first = const_str(call.args[0]) if call.args else None
    if first and first.startswith(rules.REMOTE_URL_PREFIXES) and not found:
        found.append(SideEffect("network", f"{label}({first!r})"))
    if name == "open" or method == "open":
        mode = call.args[1] if name == "open" and len(call.args) > 1 else None
        mode = mode or (call.args[0] if method == "open" and call.args else None)
        mode = _kw(call, "mode") or mode
        text = const_str(mode)
        if text is not None and set(text) & set("wax+"):
            found.append(SideEffect("file-write", f"open(..., {text!r})"))
        elif mode is not None and text is None:
            found.append(SideEffect("file-write", "open() with a computed mode"))
    elif name in rules.FILE_WRITE_FUNCTIONS or (
        method in rules.FILE_WRITE_METHODS
        and (call.args or any(kw.arg in {"path", "path_or_buf", "fname"} for kw in call.keywords))
    ):
        found.append(SideEffect("file-write", f"{label}(...)"))
    return found


def classify_call(call: ast.Call, *, statement: bool) -> CallEffect:
    effect = CallEffect()
    func = call.func
    name = dotted(func)
    method = func.attr if isinstance(func, ast.Attribute) else None
    effect.side_effects = _side_effects(call, name, method)
    short_name = name.rpartition(".")[2] if name else method or ""
    effect.changes_cwd = name in rules.CWD_FUNCTIONS
    effect.changes_sys_path = (
        name is not None
        and name.startswith(("sys.path.", "sys.modules."))
        and method in rules.MUTATING_METHODS
    )
    effect.reads_files = bool(call.args) and (
        name in rules.FILE_READ_FUNCTIONS or short_name.startswith(rules.FILE_READ_PREFIXES)
    )
    writes = [e for e in effect.side_effects if e.kind == "file-write"]
    if writes:  # the file a write names: the path (or both paths, copy and rename)
        effect.files_written = _path_args(call, 2 if name in rules.FILE_WRITE_FUNCTIONS else 1)
    elif effect.reads_files:
        effect.files_read = _path_args(call, 1)

    if name in {"exec", "execfile"}:
        effect.dynamic = "exec() of code the analysis cannot read"
    elif name == "setattr" and call.args:
        target = call.args[0]
        attr = const_str(call.args[1]) if len(call.args) > 1 else None
        if is_main_module(target):
            if attr is None:
                effect.dynamic = "setattr() on the main module with a computed name"
            else:
                effect.dynamic_defines.append(attr)
        elif (root := root_name(target)) is not None:
            effect.args_mutated.append(root)  # a store, as `target.attr = value` is
            effect.patched = _patched_through(target, attr)
    elif name == "delattr" and call.args and (root := root_name(call.args[0])) is not None:
        effect.args_mutated.append(root)
        attr = const_str(call.args[1]) if len(call.args) > 1 else None
        effect.patched = _patched_through(call.args[0], attr)
    elif isinstance(func, ast.Attribute) and is_namespace_call(func.value):
        if func.attr in {"update", "setdefault", "__setitem__", "pop", "clear", "__delitem__"}:
            effect.dynamic = f"globals().{func.attr}()"
    elif name and _rng_call(call, name, effect):
        pass
    elif name in rules.ARG_MUTATING_FUNCTIONS and call.args and (arg := root_name(call.args[0])):
        effect.args_mutated.append(arg)

    short = name.rpartition(".")[2] if name else method
    seed = _kw(call, "random_state")
    if (
        short in rules.GLOBAL_NP_RNG_CONSUMERS
        and not effect.rng_used
        and (seed is None or (isinstance(seed, ast.Constant) and seed.value is None))
        and not (name and name.startswith("random."))
    ):
        effect.rng_used.add(rules.NP_RANDOM)
    unseeded_ctor = short in rules.RNG_CONSTRUCTORS and short not in {"SystemRandom", "Generator"}
    if unseeded_ctor and not call.args and not call.keywords:
        effect.unseeded = effect.unseeded or f"{name or short}()"

    if method is not None and effect.receiver_mutated is None:
        receiver = root_name(func.value) if isinstance(func, ast.Attribute) else None
        mutating = (
            method in rules.MUTATING_METHODS
            or _is_true(_kw(call, "inplace"))
            or (
                statement
                and method not in rules.PURE_STATEMENT_METHODS
                and method not in rules.FILE_WRITE_METHODS  # writes a file, not the receiver
            )
        )
        if receiver and mutating and not _rng_owner(name):
            effect.receiver_mutated = receiver
    return effect


def _rng_owner(name: str | None) -> bool:
    # `random.shuffle(x)` mutates x, not a variable called `random`.
    return name is not None and name.rpartition(".")[0] in {"random", "np.random", "numpy.random"}
