"""Checkpoints of user variables: written per group of names, loaded only after a hash check.

``save`` splits the names into groups whose objects share references (``groups``: a name's
value, its elements and attributes to a small depth, an array's ``base``), so that ``b = a``,
``view = arr[::2]`` or two frames holding one list come back shared. Each group is one pickle
stream (protocol 5) of ``{name: value}``; large contiguous buffers (numpy, pandas, arrow) go
out of band, each written straight from its memory to its own file, so a 1 GB frame is never
copied in memory. Every file's SHA-256 is computed while it is written and reported: the
*server* signs those hashes, and this module never trusts a file it did not get a hash for.

What is not pickled: modules and functions or classes defined in the notebook (their cells
are replayed, cheaply, before data is loaded), and whatever pickle refuses (generators, open
files, locks, sockets, connections): the group is listed under ``skipped`` with the reason.

``load`` receives the groups with the hashes the server verified against its signature. It
reads each file of a group whole, compares its size and hash, and only when every file of
the group matches does it unpickle those bytes; a group that fails is refused with the
reason, nothing of it unpickled, and the other groups still load.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import sys
import time
import types
from collections.abc import Iterable
from typing import Any, TypedDict

from .changes import ATOMS

PROTOCOL = 5
OUT_OF_BAND_MIN = 64 * 1024  # smaller buffers stay in the pickle stream
REACH_DEPTH = 2  # levels of elements and attributes followed to find shared objects
REACH_MAX = 10_000  # objects looked at per name
_NOTEBOOK_MODULE = "__main__"


class Blob(TypedDict):
    file: str  # a file name inside the checkpoint's folder
    sha256: str
    bytes: int


class Group(TypedDict):
    names: list[str]
    blobs: list[Blob]  # the pickle stream first, then its out-of-band buffers in order


class Skipped(TypedDict):
    name: str
    reason: str


def not_saved(value: Any) -> str | None:
    """Why ``value`` is left to its cell instead of pickled, or None."""
    if isinstance(value, types.ModuleType):
        return "a module: its import is replayed"
    kind = type(value)
    defines = kind is types.FunctionType or issubclass(kind, type)
    if defines and getattr(value, "__module__", None) == _NOTEBOOK_MODULE:
        return "defined in the notebook: its cell is replayed"
    return None


def _reach(value: Any) -> Iterable[int]:
    """ids of ``value`` and of the objects it holds, to ``REACH_DEPTH`` (atoms left out)."""
    seen: set[int] = set()
    level = [value]
    for depth in range(REACH_DEPTH + 1):
        nxt: list[Any] = []
        for obj in level:
            if type(obj) in ATOMS or id(obj) in seen or len(seen) >= REACH_MAX:
                continue
            seen.add(id(obj))
            if depth == REACH_DEPTH:
                continue
            if isinstance(obj, dict):
                nxt.extend(obj.values())
            elif isinstance(obj, (list, tuple, set, frozenset)):
                nxt.extend(obj)
            base = getattr(obj, "base", None) if hasattr(type(obj), "base") else None
            if base is not None and not isinstance(base, (types.FunctionType, type)):
                nxt.append(base)  # numpy views: saved with what they view
            attrs = getattr(obj, "__dict__", None)
            if isinstance(attrs, dict):
                nxt.extend(attrs.values())
        level = nxt
    return seen


def groups(ns: dict[str, Any], names: Iterable[str]) -> list[list[str]]:
    """``names`` split into groups whose values share an object (union-find), name order kept."""
    names = [n for n in names if n in ns]
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    owner: dict[int, str] = {}
    for name in names:
        for ident in _reach(ns[name]):
            other = owner.setdefault(ident, name)
            if other != name:
                a, b = root(name), root(other)
                if a != b:
                    parent[b] = a
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(root(name), []).append(name)
    return list(out.values())


def _create(path: str) -> Any:
    """A new file only the user can read (never an existing one: no symlink games)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


class _HashingWriter:
    """A file that hashes what is written to it."""

    def __init__(self, path: str) -> None:
        self.file = _create(path)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        self.sha.update(data)
        self.size += memoryview(data).nbytes
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()


def _view(base: Any, shape: Any, dtype: Any, offset: int, strides: Any) -> Any:
    """Rebuild a numpy view of ``base`` (pickle's default would copy it). Unpickling ``base``
    came first, so numpy is imported; the tracker itself never imports it."""
    return sys.modules["numpy"].ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # A numpy view is pickled as a reference to the array it views, so that a slice
        # stays a view of its array after loading (both are in one group: ``_reach``).
        numpy = _numpy()
        if numpy is None or type(obj) is not numpy.ndarray:
            return NotImplemented
        base = obj.base
        if type(base) is not numpy.ndarray or base.base is not None or not base.flags.c_contiguous:
            return NotImplemented
        if not obj.size or obj.dtype.hasobject or base.dtype.hasobject:
            return NotImplemented
        # the address of the view's first element, from the start of the array's memory
        offset = obj.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return (_view, (base, obj.shape, obj.dtype, offset, obj.strides))


def _numpy() -> Any:
    numpy = sys.modules.get("numpy")
    return numpy if hasattr(numpy, "ndarray") else None


def _write_group(folder: str, key: str, values: dict[str, Any]) -> list[Blob]:
    buffers: list[Blob] = []
    written: list[str] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        try:
            raw = buffer.raw()
        except BufferError:  # not contiguous: pickle copies it into the stream
            return True
        if raw.nbytes < OUT_OF_BAND_MIN:
            return True
        name = f"{key}.b{len(buffers)}"
        path = os.path.join(folder, name)
        written.append(path)
        with _create(path) as f:
            f.write(raw)  # straight from the object's memory
        sha = hashlib.sha256(raw).hexdigest()
        buffers.append({"file": name, "sha256": sha, "bytes": raw.nbytes})
        return False

    name = f"{key}.pkl"
    path = os.path.join(folder, name)
    written.append(path)
    stream = _HashingWriter(path)
    try:
        _Pickler(stream, protocol=PROTOCOL, buffer_callback=out_of_band).dump(values)
    except BaseException:
        stream.close()
        for p in written:
            with contextlib.suppress(OSError):
                os.remove(p)
        raise
    stream.close()
    return [{"file": name, "sha256": stream.sha.hexdigest(), "bytes": stream.size}, *buffers]


def _reported_bytes(value: Any) -> int:
    """Buffer size where the object reports one (numpy ``nbytes``, pandas ``memory_usage``),
    else its shallow size."""
    for attr in ("nbytes", "memory_usage"):
        try:
            reported = getattr(value, attr, None)
            size = reported(deep=False) if callable(reported) else reported
            total = getattr(size, "sum", None)
            size = total() if callable(total) else size
            if isinstance(size, (int, float)) and not isinstance(size, bool):
                return int(size)
        except Exception:
            continue
    return sys.getsizeof(value, 0)


def estimate_bytes(value: Any) -> int:
    """Roughly what pickling ``value`` writes: reported buffer sizes, and for a container its
    items' (one level, at most ``REACH_MAX`` of them)."""
    size = _reported_bytes(value)
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return size
    for i, item in enumerate(items):
        if i >= REACH_MAX:
            break
        size += _reported_bytes(item)
    return size


def save(
    ns: dict[str, Any], names: Iterable[str], folder: str, max_bytes: int | None = None
) -> dict[str, Any]:
    """Write the picklable ``names`` of ``ns`` into ``folder`` (created, 0700).

    ``max_bytes``: a group estimated larger is skipped (automatic checkpoints must cost a
    small part of the cell they follow). ``{"groups": [Group], "skipped": [Skipped],
    "replay": [names], "bytes", "ms"}``.
    """
    t0 = time.perf_counter()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    skipped: list[Skipped] = []
    replay: list[str] = []
    data: list[str] = []
    for name in names:
        if name not in ns:
            continue
        reason = not_saved(ns[name])
        if reason is None:
            data.append(name)
        else:
            replay.append(name)
    saved: list[Group] = []
    for i, members in enumerate(groups(ns, data)):
        if max_bytes is not None:
            distinct = {id(ns[n]): ns[n] for n in members}  # aliases are written once
            estimate = sum(map(estimate_bytes, distinct.values()))
            if estimate > max_bytes:
                why = f"about {estimate / 1e6:.1f} MB: over this checkpoint's budget"
                skipped += [{"name": n, "reason": why} for n in members]
                continue
        try:
            blobs = _write_group(folder, f"g{i}", {n: ns[n] for n in members})
        except Exception as exc:  # unpicklable (a generator, a lock, a socket ...)
            why = f"cannot be pickled: {type(exc).__name__}: {exc}"[:300]
            skipped += [{"name": n, "reason": why} for n in members]
            continue
        saved.append({"names": members, "blobs": blobs})
    return {
        "groups": saved,
        "skipped": skipped,
        "replay": replay,
        "bytes": sum(b["bytes"] for g in saved for b in g["blobs"]),
        "ms": round((time.perf_counter() - t0) * 1000.0, 2),
    }


class Refused(Exception):
    """A file of a checkpoint does not match what the server signed."""


def _read_verified(folder: str, blob: Blob) -> bytearray:
    name = str(blob["file"])
    if os.path.basename(name) != name or name in ("", ".", ".."):
        raise Refused(f"{name!r} is not a file name of the checkpoint")
    path = os.path.join(folder, name)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise Refused(f"{name} cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size != blob["bytes"]:
            raise Refused(f"{name} has {size} bytes, the signed checkpoint {blob['bytes']}")
        data = bytearray(size)
        view = memoryview(data)
        got = 0
        while got < size:
            n = f.readinto(view[got:])
            if not n:
                raise Refused(f"{name} ended after {got} of {size} bytes")
            got += n
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(blob["sha256"])):
        raise Refused(f"{name} changed since it was written (SHA-256 differs)")
    return data


def load(ns: dict[str, Any], folder: str, signed: list[Group]) -> dict[str, Any]:
    """Load the groups whose files match ``signed`` into ``ns``.

    ``{"loaded": [names], "refused": [Skipped], "ms"}``.
    """
    t0 = time.perf_counter()
    loaded: list[str] = []
    refused: list[Skipped] = []
    for group in signed:
        names = [str(n) for n in group["names"]]
        try:
            if not group["blobs"]:
                raise Refused("the checkpoint lists no data for it")
            stream, *buffers = [_read_verified(folder, b) for b in group["blobs"]]
        except Refused as exc:
            refused += [{"name": n, "reason": str(exc)} for n in names]
            continue
        # Every byte below matches the hashes the server signed: only now is it unpickled.
        try:
            values = pickle.loads(stream, buffers=buffers)
        except Exception as exc:
            why = f"could not be unpickled: {type(exc).__name__}: {exc}"[:300]
            refused += [{"name": n, "reason": why} for n in names]
            continue
        if not isinstance(values, dict) or sorted(values) != sorted(names):
            refused += [{"name": n, "reason": "the data holds other names"} for n in names]
            continue
        ns.update(values)
        loaded += names
    return {"loaded": loaded, "refused": refused, "ms": round((time.perf_counter() - t0) * 1000, 2)}
