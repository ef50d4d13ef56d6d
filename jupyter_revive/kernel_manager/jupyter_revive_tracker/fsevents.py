"""Files read, written and removed in the notebook's folder, as the operating system saw them.

The wrapped functions (``touches``) see the files that Python code opens. C code opens its own:
``sqlite3`` databases, HDF5, parquet through pyarrow, compiled readers; and so do the programs
a cell runs (``!python make_data.py``, ``subprocess``). On Linux the tracker asks the OS to
report what happens in the kernel's start folder (the notebook's), in the working directory a
cell changes to, and in the folders below them (inotify, through libc: one descriptor, one watch
per folder, ``MAX_FOLDERS`` at most; hidden folders, ``__pycache__`` and ``node_modules`` left
out), and each record takes the events queued since the last one (``events``), in the wait
before its reply, so a cell pays nothing for it:

* written: a file's data changed (``IN_MODIFY``, a truncation too), a file made or moved in;
* removed: a file deleted or moved out;
* read: a file's data read (``IN_ACCESS``), a file opened read-only closed.

A folder made since the last record is watched from then on, and the files already in it count
as written (they are new). Notebooks, hidden files and folders (``.ipynb_checkpoints``, editors'
and the server's temporary files) are left out: the server writes those.

The OS does not say which process acted: whatever another program did in these folders since the
last record counts too (an editor saving a file, a second kernel writing there). A restore then
re-runs a cell more, never one less.

A folder a cell changes to is watched from its record on; what C code or a program wrote there
during that cell, before the watch, is found by the files' change times instead
(``written_since``). Not seen: writes through a memory map, files outside these folders, files
read or removed in a folder changed to within the same cell, and on platforms without inotify
anything but those change times.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import sys
import time
from typing import Any

# Watches are the user's, shared with every program of theirs (8192 by default on older
# kernels): a kernel takes few. A folder tree is watched this deep and this wide at first; a
# folder made later is watched wherever it is.
MAX_FOLDERS = 128  # watched at once
TREE_FOLDERS = 32  # per tree watched (the start folder, a working directory changed to)
TREE_DEPTH = 2  # levels below its top
SCAN_S = 0.05  # spent listing one tree
MAX_EVENTS = 4096  # parsed per record; past them the rest is drained and the record truncated
MAX_FILES = 4096  # looked at in a folder a cell changed to (``written_since``)
# File times come from the kernel's coarse clock (a tick behind the one ``time.time`` reads), so
# a file written just after a cell began can look older by that much.
CLOCK_SLACK = 0.05
_READ = 65536

_ACCESS, _MODIFY, _CLOSE_NOWRITE = 0x1, 0x2, 0x10
_MOVED_FROM, _MOVED_TO, _CREATE, _DELETE = 0x40, 0x80, 0x100, 0x200
_Q_OVERFLOW, _IGNORED, _ONLYDIR, _EXCL_UNLINK, _ISDIR = (
    0x4000, 0x8000, 0x01000000, 0x04000000, 0x40000000,
)  # fmt: skip
_MASK = (
    _ACCESS | _MODIFY | _CLOSE_NOWRITE | _MOVED_FROM | _MOVED_TO | _CREATE | _DELETE
    | _ONLYDIR | _EXCL_UNLINK
)  # fmt: skip
_WRITTEN, _REMOVED, _READS = (
    _MODIFY | _CREATE | _MOVED_TO,
    _DELETE | _MOVED_FROM,
    _ACCESS | _CLOSE_NOWRITE,
)
_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)

# The function itself, not ``touches``' wrapper, which would count these listings as the cell's.
_scandir = os.scandir
_libc: Any = None
_fd: int | None = None
_poll: Any = None  # asks whether events are queued: a read that finds none raises, dearer
_folders: dict[int, str] = {}  # watch descriptor -> folder (absolute)
_watched: set[str] = set()  # the same folders


def _load_libc() -> Any:
    """libc's inotify functions, or None (not Linux, no ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except Exception:
        return None


# Folders of code and caches, not data, and often thousands of them.
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules", "site-packages"})


def _skipped(name: str) -> bool:
    return name[:1] == "." or name in _SKIPPED_FOLDERS or name.endswith(".ipynb")


def start(folder: str) -> bool:
    """Watch ``folder`` and the folders below it; False where the OS cannot tell."""
    global _libc, _fd, _poll
    stop()
    if _libc is None:
        _libc = _load_libc()
    if _libc is None:
        return False
    fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:  # (a user's instances are limited: 128 by default)
        return False
    _fd = fd
    try:
        _poll = select.poll()
        _poll.register(fd, select.POLLIN)
    except (AttributeError, OSError, ValueError):  # (no poll: each read finds out)
        _poll = None
    watch(folder)
    return True


def watch(folder: str) -> None:
    """Watch ``folder`` and the folders below it, breadth first, within ``TREE_FOLDERS``,
    ``TREE_DEPTH`` and ``SCAN_S`` (the working directory, each record: a cell may have
    changed it)."""
    if _fd is None or not folder or folder == os.sep or folder in _watched:
        return
    deadline = time.perf_counter() + SCAN_S
    todo = [(folder, 0)]
    left = TREE_FOLDERS
    while todo and left > 0 and time.perf_counter() < deadline:
        here, depth = todo.pop(0)
        if here in _watched or _watch(here) is None:
            continue
        left -= 1
        if depth < TREE_DEPTH:
            todo += [(path, depth + 1) for _, path in _below(here, files=False)]


def written_since(folder: str, since: float) -> tuple[list[str], bool]:
    """Files under ``folder`` (within the tree bounds), in the folders not watched yet, whose
    data or name changed at or after ``since`` (``time.time()``): what a cell that changed to
    ``folder`` at ``since`` had C code or a program write there before the folder's watch
    began. True when the listing was cut short (``MAX_FILES``, the time it may take)."""
    deadline = time.perf_counter() + SCAN_S
    found: list[str] = []
    todo = [(folder, 0)]
    folders = TREE_FOLDERS
    files = MAX_FILES
    while todo:
        if folders <= 0 or time.perf_counter() > deadline:
            return found, True
        here, depth = todo.pop(0)
        if here in _watched:
            continue  # its events say what happened there
        folders -= 1
        for is_dir, path in _below(here, files=True):
            if is_dir:
                if depth < TREE_DEPTH:
                    todo.append((path, depth + 1))
                continue
            if files <= 0:
                return found, True
            files -= 1
            with contextlib.suppress(OSError):
                st = os.stat(path, follow_symlinks=False)
                # (ctime: a file moved in keeps its data's time, not its own)
                if max(st.st_mtime, st.st_ctime) >= since - CLOCK_SLACK:
                    found.append(path)
    return found, False


def stop() -> None:
    global _fd, _poll
    fd, _fd, _poll = _fd, None, None
    _folders.clear()
    _watched.clear()
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def _watch(folder: str) -> int | None:
    if _fd is None or len(_folders) >= MAX_FOLDERS:
        return None
    wd = _libc.inotify_add_watch(_fd, os.fsencode(folder), _MASK)
    if wd < 0:
        return None
    _folders[wd] = folder
    _watched.add(folder)
    return int(wd)


def _below(folder: str, files: bool) -> list[tuple[bool, str]]:
    """(is a folder, path) of what ``folder`` holds: its folders, and its files if ``files``;
    hidden and skipped names left out, symbolic links not followed."""
    found = []
    with contextlib.suppress(OSError), _scandir(folder) as entries:
        for entry in entries:
            if _skipped(entry.name):
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir or (files and entry.is_file(follow_symlinks=False)):
                found.append((is_dir, entry.path))
    return found


def events() -> tuple[list[tuple[str, str]], bool]:
    """(kind, absolute path) of what happened to files in the watched folders since the last
    call, kind one of "read", "written", "removed"; and True when events were lost (the OS's
    queue overflowed, or more than ``MAX_EVENTS``)."""
    if _fd is None or (_poll is not None and not _poll.poll(0)):
        return [], False  # (the common case: nothing happened)
    found: list[tuple[str, str]] = []
    lost = False
    parsed = 0
    while True:
        try:
            data = os.read(_fd, _READ)
        except BlockingIOError:  # nothing (more) queued: the common case
            break
        except OSError:
            stop()
            break
        if parsed >= MAX_EVENTS:
            lost = True  # drained unread
            continue
        at = 0
        while at + _HEADER.size <= len(data):
            wd, mask, _, size = _HEADER.unpack_from(data, at)
            name = data[at + _HEADER.size : at + _HEADER.size + size].split(b"\0", 1)[0]
            at += _HEADER.size + size
            parsed += 1
            if mask & _Q_OVERFLOW:
                lost = True
            elif mask & _IGNORED:
                _watched.discard(_folders.pop(wd, ""))  # its folder was removed
            elif name:
                lost = _event(_folders.get(wd), os.fsdecode(name), mask, found) or lost
    return found, lost


def _event(folder: str | None, name: str, mask: int, found: list[tuple[str, str]]) -> bool:
    """Add what one event says to ``found``; True if a new folder's files were cut short."""
    if folder is None or _skipped(name):
        return False
    path = os.path.join(folder, name)
    if mask & _ISDIR:
        if mask & (_CREATE | _MOVED_TO):
            return _new_folder(path, found)
        return False
    if mask & _WRITTEN:
        found.append(("written", path))
    if mask & _REMOVED:
        found.append(("removed", path))
    if mask & _READS:
        found.append(("read", path))
    return False


def _new_folder(folder: str, found: list[tuple[str, str]]) -> bool:
    """Watch a folder made since the last record; what it holds was made since too (files
    written into it before the watch started sent no event). True if folders were left out
    (past ``MAX_FOLDERS``; one removed again meanwhile, a scratch folder, held nothing)."""
    todo = [folder]
    while todo:
        here = todo.pop()
        if _watch(here) is None:
            if len(_folders) >= MAX_FOLDERS:
                return True
            continue
        for is_dir, path in _below(here, files=True):
            if is_dir:
                todo.append(path)
            else:
                found.append(("written", path))
    return False
