"""What an execution touched outside the namespace: files, environment variables, the working
directory, and (read by ``settings``) library settings and the global random generators.

Files: the functions that open, remove, rename and make files (``open`` and ``io.open``, which
pathlib, pandas, numpy and shutil use; IPython's own ``open``; ``os.open``, ``os.remove``/
``unlink``, ``os.rename``/``replace``, ``os.mkdir``/``rmdir``, ``os.truncate``, ``os.chdir``,
``shutil.rmtree``, ``importlib.reload``; ``os.listdir`` and ``os.scandir``, which ``glob``,
``os.walk`` and ``pathlib`` list folders with) are wrapped while the tracker is loaded
(``install``/``uninstall``); calls count while a cell runs (``start``/``stop``), and only on
the thread running it. A writable file ``open`` returns is watched for later writes through it
(``handles``). Importing a module reads its file without them (the import system opens
it in C): the modules imported since the last execution are found at the end of
``sys.modules``, and their files count as read (``%%writefile helper.py``, then
``import helper``: the import depends on the cell that wrote it). Paths of the
interpreter's installation, caches and system files are left out. Paths are made absolute at
the call, so a relative path after a ``chdir`` is recorded as the file it was; the record keeps
them relative to the kernel's start directory (``shown``). (Not an audit hook: with any audit
hook installed, CPython runs it for every ``id()``, ``compile`` and frame access, which cost
~0.25 ms per cell here.)

The environment is compared with what the last execution left (not copied at every cell's
start, which costs the cell's reply; a change made between executions counts for the next):
variable *names* only, never their values; and so are the settings and generators
(``settings``). A working-directory change is a call of ``os.chdir`` (which ``%cd``
uses too).

Files that C code and other programs open (``sqlite3``, HDF5, parquet through pyarrow, ``!make``)
are reported by the OS for the notebook's folders (``fsevents``, Linux); what they wrote in a
folder a cell changed to, before its watch began, is found by the files' change times. What this
cannot see: such files elsewhere, functions bound before the tracker was loaded (``from os import
remove`` in a module imported earlier), network.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from operator import is_
from types import ModuleType
from typing import Any

from . import fsevents, handles, settings
from .records import UNTOUCHED, Files, Touched
from .snapshots import dict_tag

MAX_PATHS = 50  # per list and execution

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Virtual and system files: reads there are the platform's (time zones, locales), not data.
_SYSTEM = ("/proc/", "/sys/", "/dev/", "/usr/", "/etc/", "/lib/", "/lib64/")


_roots: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # (sys.path it was made for, roots)

# Records go into the notebook, and an absolute path tells who and where its author is: paths
# under the kernel's start directory (the notebook's folder) are kept relative to it, others
# under the home folder start with "~/". The planner only compares them.
try:
    _BASE = os.path.join(os.getcwd(), "")
except OSError:  # started in a folder removed since: keep paths absolute
    _BASE = ""
_HOME = os.path.join(os.path.expanduser("~"), "")
_BASE, _HOME = ("" if p == os.sep else p for p in (_BASE, _HOME))  # "/": nothing to hide


def shown(path: str) -> str:
    """An absolute ``path`` as records keep it (see ``_BASE``; the folder itself is ".")."""
    if _BASE and path + os.sep == _BASE:
        return "."
    if _BASE and path.startswith(_BASE):
        return path[len(_BASE) :]
    if _HOME and path.startswith(_HOME):
        return "~/" + path[len(_HOME) :]
    return path


def _ignored_roots() -> tuple[str, ...]:
    """The interpreter's installation and caches: reads there are imports, fonts, configs."""
    global _roots
    key = tuple(sys.path)
    if _roots[0] == key:
        return _roots[1]
    installed = [p for p in sys.path if "site-packages" in p or "dist-packages" in p]
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *installed}
    home = os.path.expanduser("~")
    for sub in (".ipython", ".cache", ".local/share/jupyter", ".jupyter", ".config/matplotlib"):
        roots.add(os.path.join(home, sub))
    found = tuple(os.path.join(os.path.abspath(r), "") for r in roots if r and os.path.isabs(r))
    _roots = (key, found)
    return found


def user_file(path: str) -> bool:
    """Whether the absolute ``path`` is one of the user's files: not the system's, nor the
    interpreter's installation or caches (``_ignored_roots``)."""
    return not (path.startswith(_SYSTEM) or path.startswith(_ignored_roots()))


class Touches:
    """What one execution touched; filled by the wrapped functions while it is the active one.

    Made at the start of every cell, so it holds nothing until a file function is called: the
    path lists are made on the first call, and the environment and options are compared in
    ``record`` with what the last execution left (``_left``), not with a copy taken here."""

    __slots__ = (
        "cwd", "listed", "read", "removed", "thread", "truncated", "visited", "written",
    )  # fmt: skip

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.read: dict[str, None] | None = None
        self.written: dict[str, None] | None = None
        self.removed: dict[str, None] | None = None
        self.listed: dict[str, None] | None = None
        self.cwd = False
        # folders changed to (absolute) -> when, first: ``fsevents.written_since``
        self.visited: dict[str, float] | None = None
        self.truncated = False

    @staticmethod
    def _absolute(value: Any) -> str | None:
        """The user's file ``value`` names, absolute; None for a file descriptor (already
        counted when it was opened) or a file of the system's."""
        if isinstance(value, int) or value is None:
            return None
        try:
            path = os.path.abspath(os.fsdecode(value))
        except (TypeError, ValueError):
            return None
        return path if user_file(path) else None

    def _add(self, kind: str, value: Any) -> str | None:
        """Count ``value``'s file as ``kind``; its absolute path, if it is the user's."""
        path = self._absolute(value)
        if path is None:
            return None
        target = getattr(self, kind)
        if target is None:
            target = {}
            setattr(self, kind, target)
        key = shown(path)
        if len(target) >= MAX_PATHS and key not in target:
            self.truncated = True
        else:
            target[key] = None
        return path

    def wrote(self, path: str) -> None:
        """Count a write the wrapped functions did not see (``handles``)."""
        self._add("written", path)

    def event(self, name: str, args: tuple[Any, ...]) -> str | None:
        """Count one call; for an ``open`` that may write, the file's absolute path (its
        handle is then watched: ``handles``)."""
        if name == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            if isinstance(path, (str, bytes)) and os.path.isdir(path):
                return None  # a directory (an unnamed temporary file in it, a scan)
            writes = (
                any(c in mode for c in "wax+")
                if isinstance(mode, str)
                else isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
            )
            reads = not isinstance(mode, str) or "r" in mode or "+" in mode
            if reads and not (isinstance(flags, int) and flags & os.O_WRONLY):
                self._add("read", path)
            if writes:
                return self._add("written", path)
        elif name in ("os.remove", "os.rmdir", "shutil.rmtree"):
            self._add("removed", args[0])
        elif name == "os.rename":
            self._add("removed", args[0])
            self._add("written", args[1])
        elif name in ("os.mkdir", "os.truncate"):
            self._add("written", args[0])
        elif name == "os.chdir":
            self.cwd = True
            folder = self._absolute(args[0])
            if folder is not None:
                if self.visited is None:
                    self.visited = {}
                self.visited.setdefault(folder, time.time())
        elif name == "import":
            self._add("read", args[0])
        elif name == "os.listdir":
            self._add("listed", args[0])
        return None

    def _os_events(self) -> None:
        """Add what the OS saw happen in the notebook's folders (``fsevents``), and what C code
        or programs wrote in folders this cell changed to, before they were watched (those are
        watched from now on, as the working directory is: the notebook works there)."""
        for folder, since in (self.visited or {}).items():
            try:
                paths, cut = fsevents.written_since(folder, since)
                fsevents.watch(folder)
            except Exception:
                continue
            for path in paths:
                self._add("written", path)
            self.truncated = self.truncated or cut
        with contextlib.suppress(Exception):  # changed by this cell, or silently: seen from now on
            fsevents.watch(os.getcwd())
        try:
            found, lost = fsevents.events()
        except Exception:
            return
        for kind, path in found:
            self._add(kind, path)
        if lost:
            self.truncated = True

    def record(self) -> Touched:
        """What the execution touched, in the record's shape (``records.Touched``); most cells
        touch nothing and share ``records.UNTOUCHED``. The environment and settings as they
        are now become what the next execution is compared with."""
        global _left
        before_env, before = _left if _left is not None else (None, settings.NOTHING_READ)
        environ, state = _left = (_environ(), settings.read())
        for path in _imported():
            self._add("read", path)
        for path in handles.written():
            self.wrote(path)
        self._os_events()
        read, written, removed = self.read or {}, self.written or {}, self.removed or {}
        listed = self.listed or {}
        if (
            state is before
            and environ is before_env
            and not (read or written or removed or listed or self.cwd or self.truncated)
        ):
            return UNTOUCHED
        changed, generators = ([], []) if state is before else settings.changed(before, state)
        env: list[str] = []
        if environ is not before_env and before_env is not None:
            keys = before_env.keys() | environ.keys()
            env = sorted(os.fsdecode(k) for k in keys if environ.get(k) != before_env.get(k))
        # Written and removed within the execution (temporary files): nothing later can read.
        transient = written.keys() & removed.keys()
        read_paths = sorted(read.keys() - transient)
        written_paths = sorted(written.keys() - transient)
        removed_paths = sorted(removed.keys() - transient)
        truncated = self.truncated or len(changed) > MAX_PATHS or len(env) > MAX_PATHS
        if not (
            read_paths
            or written_paths
            or removed_paths
            or listed
            or env
            or self.cwd
            or changed
            or generators
            or truncated
        ):
            return UNTOUCHED  # only temporary files, or a variable set to the value it had
        files: Files = {"read": read_paths, "written": written_paths, "removed": removed_paths}
        if listed:
            files["listed"] = sorted(listed)
        return {
            "files": files,
            "env": {
                "vars": env[:MAX_PATHS],
                "cwd": self.cwd,
                "options": changed[:MAX_PATHS],
                "random": generators,
            },
            "truncated": truncated,
        }


_environ_seen: dict[Any, Any] = {}
_environ_tag: Any = None  # the encoded mapping's version tag when it was copied
_environ_view: Any = None  # dict_tag of the encoded mapping


def _encoded() -> Any:
    return getattr(os.environ, "_data", None)  # the encoded mapping (CPython's os.environ)


def _environ() -> dict[Any, Any]:
    """A copy of the environment, the same object as last time while nothing changed (no
    allocation per cell). An unchanged version tag of the mapping proves it unchanged without
    comparing it (``snapshots.dict_tag``); without tags the comparison decides."""
    global _environ_seen, _environ_tag, _environ_view
    view = _environ_view
    if view is not None and view.value == _environ_tag and view.dict is _encoded():
        return _environ_seen  # the common case, first: nothing changed
    data = _encoded()
    current = data if isinstance(data, dict) else os.environ
    tag = None
    if dict_tag is not None and current is data:
        view = _environ_view
        if view is None or view.dict is not data:
            view = _environ_view = dict_tag(data)
        tag = view.value
    if tag is not None and tag == _environ_tag:
        return _environ_seen
    if current != _environ_seen:
        _environ_seen = dict(current)
    _environ_tag = tag
    return _environ_seen


# (how many modules, the last one's name, the module) when ``_imported`` last looked
_modules_seen: tuple[int, Any, Any] | None = None
MAX_IMPORTS = 500  # modules looked at per execution, newest first


def _modules_now() -> tuple[int, Any, Any]:
    modules = sys.modules
    last = next(reversed(modules), None)
    return (len(modules), last, modules.get(last))  # type: ignore[arg-type]


def _imported() -> list[str]:
    """Files of the modules imported since the last call, newest first (a dict keeps insertion
    order: they are its last keys); nothing the first time. Paths outside the notebook's files
    are dropped later (``Touches._path``)."""
    global _modules_seen
    seen, now = _modules_seen, _modules_now()
    _modules_seen = now
    if seen is None or (now[0] == seen[0] and now[2] is seen[2]):
        return []  # (the common case: nothing imported)
    files = []
    modules = sys.modules
    try:
        for i, name in enumerate(reversed(modules)):
            if i >= MAX_IMPORTS or (name == seen[1] and modules.get(name) is seen[2]):
                break
            module = modules.get(name)
            # (its dict: a module's __getattr__, or whatever else sits in sys.modules, may run
            # code when asked for an attribute it lacks)
            path = vars(module).get("__file__") if isinstance(module, ModuleType) else None
            if isinstance(path, str):
                files.append(path)
    except RuntimeError:  # another thread imported meanwhile: what was found so far
        pass
    return files


def _module_args(module: Any, *_: Any, **__: Any) -> tuple[Any, ...]:
    return (vars(module).get("__file__") if isinstance(module, ModuleType) else None,)


_active: Touches | None = None
# (environment, settings) as the last recorded execution left them: what the next one is
# compared with. A change made between executions (a silent execution, another thread) thus
# counts for the next one: a restore then re-runs a cell more, never one less. None: not
# taken yet (``start`` takes it).
_left: tuple[dict[Any, Any], settings.State] | None = None


class _Wrapper:
    """Stands for one file function: reports each call made on the cell's thread while a cell
    runs (``_active``), then calls through.

    An object with ``__call__``, not a function: a function stored as a class attribute
    (``class A: opener = open``) would be bound as a method, which the builtins it stands for
    never are. It pickles by reference to where it is installed (``os.remove``), which names
    the original in any other process."""

    def __init__(self, fn: Callable[..., Any], name: str, args_of: Any, owner: str, attr: str):
        functools.update_wrapper(self, fn)
        self.__revive_wrapped__ = fn
        self.__module__ = owner
        self._event = name
        self._args_of = args_of
        self._attr = attr

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        touches = _active
        written = None
        if touches is not None and threading.get_ident() == touches.thread:
            try:
                event = self._args_of(*args, **kwargs)
                if event is not None:
                    written = touches.event(self._event, event)
            except Exception:  # never break the user's call
                pass
        result = self.__revive_wrapped__(*args, **kwargs)
        if written is not None and not isinstance(result, int):  # (``os.open``: a descriptor)
            with contextlib.suppress(Exception):
                handles.watch(result, written)
        return result

    def __reduce__(self) -> str:
        return self._attr

    def __repr__(self) -> str:
        return repr(self.__revive_wrapped__)


def _call(name: str, args_of: Callable[..., tuple[Any, ...] | None]) -> Callable[..., Any]:
    """A wrapper factory: report ``name`` with ``args_of(*args, **kwargs)``, then call through."""

    def wrap(fn: Callable[..., Any], owner: str, attr: str) -> _Wrapper:
        return _Wrapper(fn, name, args_of, owner, attr)

    return wrap


def _open_args(file: Any = None, mode: Any = "r", *_: Any, **__: Any) -> tuple[Any, ...]:
    return (file, mode, None)


def _os_open_args(path: Any, flags: Any, *_: Any, dir_fd: Any = None, **__: Any) -> Any:
    return (path, None, flags) if dir_fd is None else None


def _path_args(path: Any, *_: Any, dir_fd: Any = None, **__: Any) -> Any:
    return (path,) if dir_fd is None else None


def _listed_args(path: Any = ".", *_: Any, **__: Any) -> Any:
    return None if isinstance(path, int) else (path if path is not None else ".",)


def _two_paths(src: Any, dst: Any, *_: Any, **kw: Any) -> Any:
    return None if kw.get("src_dir_fd") or kw.get("dst_dir_fd") else (src, dst)


def _targets() -> list[tuple[Any, str, Callable[..., Any]]]:
    open_ = _call("open", _open_args)
    shell = sys.modules.get("IPython.core.interactiveshell")  # IPython's ``open`` calls this
    targets = [(io, "open", open_), (sys.modules["builtins"], "open", open_)]
    if shell is not None and callable(getattr(shell, "io_open", None)):
        targets.append((shell, "io_open", open_))
    targets += [
        (os, "open", _call("open", _os_open_args)),
        (os, "remove", _call("os.remove", _path_args)),
        (os, "unlink", _call("os.remove", _path_args)),
        (os, "rmdir", _call("os.rmdir", _path_args)),
        (os, "rename", _call("os.rename", _two_paths)),
        (os, "replace", _call("os.rename", _two_paths)),
        (os, "mkdir", _call("os.mkdir", _path_args)),
        (os, "truncate", _call("os.truncate", _path_args)),
        (os, "chdir", _call("os.chdir", _path_args)),
        (os, "listdir", _call("os.listdir", _listed_args)),
        (os, "scandir", _call("os.listdir", _listed_args)),
        (shutil, "rmtree", _call("shutil.rmtree", _path_args)),
        (importlib, "reload", _call("import", _module_args)),
    ]
    return targets


_TARGETS = _targets()
_UNSEEN = object()


class _Functions:
    """The functions we wrap: where each lives (a module's ``__dict__``) and our wrapper of
    the one found there.

    ``install`` puts the wrappers in for as long as the tracker is loaded, so a cell costs
    them nothing but one check (C-level ``map``s, each function still the one we installed, by
    identity). A function someone replaced since (a test's monkeypatch, a library's own wrapper)
    is wrapped for the cell only and theirs is put back after it (``stop``), so between cells it
    stays theirs. Without ``install``, every function is wrapped for the cell only.

    The check runs in the wait before the last execution's reply (``check``, ~9 us there with
    the caches cold), not on the next cell's path: ``start`` then swaps only the places found
    holding someone else's function (usually none). A replacement made after that check by code
    outside any cell (a widget's callback, a thread) is wrapped from the cell after next on;
    until then its calls are seen if it calls what it replaced (our wrapper: most do), and in
    the notebook's folders by ``fsevents``. The first cell after ``install`` is checked at its
    start."""

    def __init__(self, targets: list[tuple[Any, str, Callable[..., Any]]]) -> None:
        self.modules = tuple(owner for owner, _, _ in targets)
        self.namespaces = tuple(vars(owner) for owner, _, _ in targets)
        self.attrs = tuple(attr for _, attr, _ in targets)
        self.wraps = tuple(wrap for _, _, wrap in targets)
        # What each place holds while installed: our wrapper, or what install() left alone
        # (missing, someone's wrapper of ours). Never matches before install().
        self.installed: tuple[Any, ...] = (_UNSEEN,) * len(self.attrs)
        self._wrapper: dict[int, _Wrapper] = {}  # id(original) -> our wrapper (originals held)
        self._swapped: list[tuple[dict[str, Any], str, Any, Any]] = []  # for this cell only
        # Set by ``check``, taken by the next ``start``: the places that held someone else's
        # function then. None: not checked since the last cell (``start`` checks them all).
        self._foreign: tuple[int, ...] | None = None

    def _wrap(self, index: int, fn: Any) -> _Wrapper:
        wrapper = self._wrapper.get(id(fn))
        if wrapper is None or wrapper.__revive_wrapped__ is not fn:
            owner = getattr(self.modules[index], "__name__", "")
            wrapper = self._wrapper[id(fn)] = self.wraps[index](fn, owner, self.attrs[index])
        return wrapper

    @staticmethod
    def _ours(fn: Any) -> bool:
        return fn is None or getattr(fn, "__revive_wrapped__", None) is not None

    def install(self) -> None:
        self.stop()
        self._foreign = None
        installed = []
        for index, (namespace, attr) in enumerate(zip(self.namespaces, self.attrs)):  # noqa: B905
            current = namespace.get(attr)
            if not self._ours(current):
                current = namespace[attr] = self._wrap(index, current)
            installed.append(current)
        self.installed = tuple(installed)

    def uninstall(self) -> None:
        """The originals back where our wrappers still are (whoever holds one keeps a wrapper
        that only calls through)."""
        self.stop()
        self._foreign = None
        for namespace, attr, current in zip(self.namespaces, self.attrs, self.installed):  # noqa: B905
            if namespace.get(attr) is current and isinstance(current, _Wrapper):
                namespace[attr] = current.__revive_wrapped__
        self.installed = (_UNSEEN,) * len(self.attrs)
        self._wrapper.clear()

    def _unchanged(self) -> bool:
        """Every place still holds what ``install`` left there."""
        return all(map(is_, map(dict.get, self.namespaces, self.attrs), self.installed))

    def check(self) -> None:
        """Between cells: note the places the next ``start`` has to swap."""
        self._foreign = None
        if self._unchanged():
            self._foreign = ()
        else:
            places = zip(self.namespaces, self.attrs)  # noqa: B905
            self._foreign = tuple(
                i for i, (ns, attr) in enumerate(places) if not self._ours(ns.get(attr))
            )

    def start(self) -> None:
        foreign, self._foreign = self._foreign, None
        if foreign is None:
            if self._unchanged():
                return
            foreign = tuple(range(len(self.attrs)))
        for index in foreign:
            namespace, attr = self.namespaces[index], self.attrs[index]
            current = namespace.get(attr)  # now: it may have changed again since the check
            if not self._ours(current):
                wrapper = namespace[attr] = self._wrap(index, current)
                self._swapped.append((namespace, attr, wrapper, current))

    def stop(self) -> None:
        swapped, self._swapped = self._swapped, []
        for namespace, attr, wrapper, current in swapped:
            if namespace.get(attr) is wrapper:  # ours, still there: put theirs back
                namespace[attr] = current


_FUNCTIONS = _Functions(_TARGETS)
_next: Touches | None = None  # made by ``check`` for the next ``start``


def install() -> None:
    """Wrap the file functions until ``uninstall`` (the tracker's lifetime)."""
    global _left, _modules_seen, _next
    _left = None  # what happened while no tracker was loaded is no execution's
    _next = None
    _modules_seen = _modules_now()
    _FUNCTIONS.install()
    try:
        fsevents.start(os.getcwd())
    except Exception:  # C-level file access then goes unseen, as without inotify
        fsevents.stop()


def uninstall() -> None:
    _FUNCTIONS.uninstall()
    handles.clear()
    fsevents.stop()


def start() -> Touches:
    """Begin collecting for one execution (until ``stop``)."""
    global _active, _left, _modules_seen, _next
    if _left is None:
        _left = (_environ(), settings.read())
        _modules_seen = _modules_now()
    touches, _next = _next, None
    if touches is None:
        touches = Touches()
    else:
        touches.thread = threading.get_ident()  # made in the wait: the cell may run elsewhere
    _active = touches
    _FUNCTIONS.start()
    return touches


def check() -> None:
    """Between cells (in the wait before a reply): check the wrapped functions and make the
    collection for the next cell, so that its ``start`` need not."""
    global _next
    _next = None
    _FUNCTIONS.check()
    _next = Touches()


def stop(touches: Touches | None) -> None:
    """End collecting (unless another execution's collection is active)."""
    global _active
    if _active is not touches:
        return
    _active = None
    _FUNCTIONS.stop()
