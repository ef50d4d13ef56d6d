"""Files written through handles that stay open across executions, and through memory maps.

``open(path, "w")`` counts as a write of ``path`` in the execution that opened it
(``touches``). Later writes through the handle call nothing the tracker wraps: ``f.write`` in
another cell, a ``csv.writer`` or logging ``FileHandler`` holding it, ``df.to_csv(f)``,
``f.close()`` flushing what was buffered. A restore that re-runs the opening cell but not
those would truncate the file and leave it so. So the tracker keeps weak references to the
writable regular files it meets: opened through the wrapped ``open`` while a cell runs
(``touches``), or reached by the fingerprint walk (``changes``: a handler's stream, a handle
held by a notebook function). After each execution ``written`` compares each one's write
state with what the last look found:

* whether it is closed;
* its logical position: the buffered layer's ``tell``, which counts buffered bytes without
  flushing them (a text file's ``tell`` would flush);
* the bytes a text file holds back before encoding them into that buffer, a C field read at
  an offset found by a probe at import (``_pending_reader``); without it, such writes show
  only once flushed;
* the file's size and modification time (``fstat``), for writes that leave the position
  where it was.

A change makes the file's path written by the execution. A change made between executions
(a logging call from a thread) counts for the next one, as the environment does.

``mapped`` does the same for ``numpy.memmap`` arrays opened for writing: the fingerprint walk
sees their buffer change (``changes``), and their file changes with it.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import weakref
from typing import Any

MAX_HANDLES = 32  # writable files watched at once (the oldest dropped first)
_BUFFERED = (io.BufferedWriter, io.BufferedRandom)


def _pending_reader() -> Any:
    """``pending(f)``: how many bytes text file ``f`` holds before its buffer (CPython's
    ``pending_bytes_count``); or None where no single field of a probe behaved so."""
    try:
        if sys.implementation.name != "cpython" or struct.calcsize("P") != 8:
            return None
        import ctypes

        size = io.TextIOWrapper.__basicsize__
        count = size // 8

        def words(of: Any) -> tuple[int, ...]:
            return struct.unpack(f"{count}q", ctypes.string_at(id(of), count * 8))

        found: set[int] | None = None
        for first, second in (("abc", "de"), ("wxyz", "0123456")):
            probe = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
            seen = [words(probe)]
            probe.write(first)
            seen.append(words(probe))
            probe.write(second)
            seen.append(words(probe))
            probe.flush()
            seen.append(words(probe))
            expect = (0, len(first), len(first) + len(second), 0)
            here = {i for i in range(count) if tuple(w[i] for w in seen) == expect}
            found = here if found is None else found & here
        if found is None or len(found) != 1:
            return None
        offset = 8 * found.pop()
        at = ctypes.c_ssize_t.from_address

        def pending(f: Any) -> int:
            return at(id(f) + offset).value  # type: ignore[no-any-return]

        return pending
    except Exception:
        return None


_pending: Any = _pending_reader()

# id(handle) -> (weak reference, absolute path, last state); insertion order: oldest first
_watched: dict[int, tuple[Any, str, Any]] = {}


def _regular(handle: Any) -> int | None:
    """The file descriptor of an open, writable handle on a regular file, else None."""
    try:
        if handle.closed or not handle.writable():
            return None
        fd = handle.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except Exception:  # detached, not a real file, a closed descriptor
        return None


def _path(handle: Any, fd: int) -> str | None:
    """The handle's file, absolute: where the descriptor points (Linux), else its name."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
    name = getattr(handle, "name", None)
    return os.path.abspath(name) if isinstance(name, str) else None


def _state(handle: Any) -> Any:
    if handle.closed:
        return None
    try:
        layer = handle.buffer if type(handle) is io.TextIOWrapper else handle
        position = layer.tell() if isinstance(layer, (*_BUFFERED, io.FileIO)) else None
        pending = _pending(handle) if _pending is not None and layer is not handle else 0
        info = os.fstat(handle.fileno())
        return (position, pending, info.st_size, info.st_mtime_ns)
    except Exception:  # closed by another thread meanwhile, detached
        return None


def watch(handle: Any, path: str | None = None) -> None:
    """Watch ``handle`` from now on, if it is an open, writable regular file (``path``: its
    absolute path, when the caller knows it)."""
    key = id(handle)
    entry = _watched.get(key)
    if entry is not None and entry[0]() is handle:
        return
    fd = _regular(handle)
    if fd is None:
        return
    path = path or _path(handle, fd)
    if path is None:
        return
    try:
        ref = weakref.ref(handle)
    except TypeError:
        return
    if len(_watched) >= MAX_HANDLES:
        _prune()
        if len(_watched) >= MAX_HANDLES:
            del _watched[next(iter(_watched))]
    _watched[key] = (ref, path, _state(handle))


def _prune() -> None:
    for key in [k for k, (ref, _, _) in _watched.items() if ref() is None]:
        del _watched[key]


def written() -> list[str]:
    """Paths of the watched files whose write state changed since the last call. Closed or
    collected handles are let go (a close that flushed counts once more)."""
    if not _watched:
        return []
    paths = []
    for key, (ref, path, last) in list(_watched.items()):
        handle = ref()
        state = None if handle is None else _state(handle)
        if state != last:
            paths.append(path)
        if state is None:
            del _watched[key]
        else:
            _watched[key] = (ref, path, state)
    return paths


def clear() -> None:
    _watched.clear()


def mapped(values: Any) -> list[str]:
    """Files of the writable ``numpy.memmap`` arrays among ``values`` (changed objects)."""
    numpy = sys.modules.get("numpy")
    memmap = getattr(numpy, "memmap", None)
    if memmap is None:
        return []
    paths = []
    for value in values:
        if isinstance(value, memmap) and getattr(value, "mode", None) in ("r+", "w+"):
            name = getattr(value, "filename", None)  # absolute; a str, or a Path if given one
            if isinstance(name, (str, os.PathLike)):
                paths.append(os.fspath(name))
    return paths
