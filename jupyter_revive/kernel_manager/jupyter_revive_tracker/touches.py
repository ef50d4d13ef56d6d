"""What an execution touched outside the namespace: files, environment variables, the working
directory, library options.

Files and the environment are seen through ``sys.addaudithook`` (PEP 578): ``open`` (also
``io.open_code``, ``os.open``, pathlib and pandas, which go through them), ``os.remove``,
``os.rename``/``os.replace``, ``shutil`` copies and removals, ``os.mkdir``/``os.rmdir``,
``os.chdir``, ``os.putenv``/``os.unsetenv`` (``os.environ`` writes). Only events on the thread
running the cell count, and paths of the interpreter's own installation, caches and virtual
files are ignored. Paths are made absolute when the event fires, so a relative path after a
``chdir`` is recorded as the file it was. Environment variables are recorded by name only,
never their values. pandas options (when pandas is loaded) are compared before and after.

What this cannot see: files opened by C code without Python's ``open`` (HDF5, databases,
compiled readers), network, other processes.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

MAX_PATHS = 50  # per list and execution

_FILE_EVENTS = frozenset(
    {"open", "os.remove", "os.rename", "shutil.copyfile", "shutil.copytree", "shutil.rmtree",
     "shutil.move", "os.mkdir", "os.rmdir", "os.truncate", "os.chdir", "os.putenv",
     "os.unsetenv"}
)  # fmt: skip
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Virtual and system files: reads there are the platform's (time zones, locales), not data.
_SYSTEM = ("/proc/", "/sys/", "/dev/", "/usr/", "/etc/", "/lib/", "/lib64/")


def _ignored_roots() -> tuple[str, ...]:
    """The interpreter's installation and caches: reads there are imports, fonts, configs."""
    installed = [p for p in sys.path if "site-packages" in p or "dist-packages" in p]
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *installed}
    home = os.path.expanduser("~")
    for sub in (".ipython", ".cache", ".local/share/jupyter", ".jupyter", ".config/matplotlib"):
        roots.add(os.path.join(home, sub))
    return tuple(os.path.join(os.path.abspath(r), "") for r in roots if r and os.path.isabs(r))


class Touches:
    """What one execution touched; filled by the audit hook while it is the active one."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.read: dict[str, None] = {}
        self.written: dict[str, None] = {}
        self.removed: dict[str, None] = {}
        self.env: dict[str, None] = {}
        self.cwd = False
        self.truncated = False
        self._roots = _ignored_roots()
        self._options = pandas_options()

    def _path(self, value: Any) -> str | None:
        if isinstance(value, int) or value is None:
            return None  # a file descriptor: already counted when it was opened
        try:
            path = os.path.abspath(os.fsdecode(value))
        except (TypeError, ValueError):
            return None
        if path.startswith(_SYSTEM) or path.startswith(self._roots):
            return None
        return path

    def _add(self, target: dict[str, None], value: Any) -> None:
        path = self._path(value)
        if path is None:
            return
        if len(target) >= MAX_PATHS and path not in target:
            self.truncated = True
            return
        target[path] = None

    def event(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            if isinstance(path, (str, bytes)) and os.path.isdir(path):
                return  # a directory (an unnamed temporary file in it, a scan): no data file
            writes = (
                any(c in mode for c in "wax+")
                if isinstance(mode, str)
                else isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
            )
            reads = not isinstance(mode, str) or "r" in mode or "+" in mode
            if writes:
                self._add(self.written, path)
            if reads and not (isinstance(flags, int) and flags & os.O_WRONLY):
                self._add(self.read, path)
        elif name in ("os.remove", "os.rmdir", "shutil.rmtree"):
            self._add(self.removed, args[0])
        elif name in ("os.rename", "shutil.move"):
            self._add(self.removed, args[0])
            self._add(self.written, args[1])
        elif name in ("shutil.copyfile", "shutil.copytree"):
            self._add(self.read, args[0])
            self._add(self.written, args[1])
        elif name in ("os.mkdir", "os.truncate"):
            self._add(self.written, args[0])
        elif name == "os.chdir":
            self.cwd = True
        elif name in ("os.putenv", "os.unsetenv"):
            key = os.fsdecode(args[0]) if isinstance(args[0], (str, bytes)) else None
            if key is not None and (len(self.env) < MAX_PATHS or key in self.env):
                self.env[key] = None

    def record(self) -> dict[str, Any]:
        """``{"files": {"read","written","removed"}, "env": {"vars","cwd","options"}}``."""
        before = self._options
        # Importing pandas is not changing its options: compare only what was loaded before.
        options = pandas_options() if before else {}
        changed = sorted(k for k in before if options.get(k) != before[k])
        # Written and removed within the execution (temporary files): nothing later can read.
        transient = self.written.keys() & self.removed.keys()
        return {
            "files": {
                "read": sorted(self.read.keys() - transient),
                "written": sorted(self.written.keys() - transient),
                "removed": sorted(self.removed.keys() - transient),
            },
            "env": {
                "vars": sorted(self.env),
                "cwd": self.cwd,
                "options": [f"pandas:{k}" for k in changed[:MAX_PATHS]],
            },
            "truncated": self.truncated or len(changed) > MAX_PATHS,
        }


def pandas_options() -> dict[str, Any]:
    """pandas' option values by dotted key, if pandas is loaded (flat copy, values as they are)."""
    pandas = sys.modules.get("pandas")
    module = getattr(getattr(pandas, "_config", None), "config", None)
    config = getattr(module, "_global_config", None)
    if not isinstance(config, dict):
        return {}
    out: dict[str, Any] = {}
    todo = [("", config)]
    while todo:
        prefix, d = todo.pop()
        for k, v in d.items():
            if isinstance(v, dict):
                todo.append((f"{prefix}{k}.", v))
            else:
                out[prefix + k] = v
    return out


_active: Touches | None = None
_installed = False


def _hook(name: str, args: tuple[Any, ...]) -> None:
    touches = _active
    if touches is None or name not in _FILE_EVENTS:
        return
    try:
        if threading.get_ident() == touches.thread:
            touches.event(name, args)
    except Exception:  # never break the user's code
        pass


def start() -> Touches | None:
    """Begin collecting for one execution (installs the process-wide hook the first time)."""
    global _active, _installed
    if not _installed:
        sys.addaudithook(_hook)  # cannot be removed again: it is idle when nothing is active
        _installed = True
    _active = Touches()
    return _active


def stop(touches: Touches | None) -> None:
    global _active
    if _active is touches:
        _active = None
