"""jupyter-revive tracker: runs INSIDE an IPython kernel.

Self-contained on purpose: stdlib + IPython only, never imports ``jupyter_revive``, Python >= 3.9
syntax. The provisioner copies this file into a private directory as ``jupyter_revive_tracker.py``
and starts ipykernel with ``--IPKernelApp.extra_extensions=jupyter_revive_tracker``; the server can
also inject the source over the shell channel (remote kernels). Loading it:

* creates the **context id** (uuid4) of this kernel process, with its pid and start time;
* keeps a **ledger** of user executions through IPython's ``pre_run_cell``/``post_run_cell``
  events (silent executions fire neither, so they are never recorded): one record per outermost
  ``run_cell``::

      {"seq", "cell", "code", "status", "ms", "defined", "deleted", "count", "context", "truncated"}

* adds that record to the execute_reply metadata under ``revive`` (by wrapping
  ``init_metadata``/``finish_metadata`` on ``ip.kernel``);
* answers ``context_json()`` and ``variables_json()`` (JSON strings) for the server's silent
  ``user_expressions`` queries.

Memory is bounded: the ledger keeps the last ``MAX_RECORDS`` (10,000) records (older ones are
dropped and counted in ``dropped``); each record lists at most ``MAX_NAMES`` (100) defined and
100 deleted names and sets ``truncated`` when it cut a list. A record costs about 0.5-2 KB, so
the ledger stays under ~20 MB even at its cap. Variable summaries are capped too (see
``variables_json``). Nothing here ever breaks a user execution: every hook swallows its errors.

One file by design (it is copied alone into kernels), hence longer than the repo's usual module.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import reprlib
import struct
import sys
import time
import uuid
from collections import deque
from itertools import islice
from operator import itemgetter
from typing import Any

TRACKER_VERSION = "1"
MODULE_NAME = "jupyter_revive_tracker"
# The provisioner names the directory it put on PYTHONPATH so that we can take it off again.
DIR_ENV = "JUPYTER_REVIVE_TRACKER_DIR"

MAX_RECORDS = 10_000
MAX_NAMES = 100
MAX_VARIABLES = 500
MAX_COLUMNS = 50
REPR_CHARS = 120
DETAIL_CHARS = 4096
# Wall-clock budget for one variables summary; past it, entries carry name and type only.
SUMMARY_BUDGET_S = 0.25

_log = logging.getLogger(MODULE_NAME)

# Names IPython rewrites on its own (output/input caches, `!cmd` exit code): never the user's.
# Its other names (In, Out, exit, quit, get_ipython, open) sit in user_ns_hidden and count
# only once the user rebinds them.
_IPYTHON_NAMES = frozenset(
    [
        "_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "_exit_code",
        "__builtin__", "__builtins__", "__name__", "__doc__", "__package__", "__loader__",
        "__spec__",
    ]
)  # fmt: skip
# Libraries whose objects may be huge: their repr is never called for a summary.
_ARRAY_LIBS = frozenset(
    ["pandas", "numpy", "polars", "torch", "tensorflow", "jax", "jaxlib", "xarray", "pyarrow",
     "dask", "cupy", "scipy", "geopandas", "modin", "vaex", "h5py", "zarr", "sparse"]
)  # fmt: skip
_CODE_TYPES = frozenset(["function", "builtin_function_or_method", "method", "partial"])
_SIZED = (list, tuple, dict, set, frozenset, str, bytes, bytearray, deque, range)


def _is_ipython_name(name: str) -> bool:
    if name in _IPYTHON_NAMES:
        return True
    if name[:1] != "_":
        return False
    # Dunders belong to the interpreter: `__warningregistry__` appears when a warning fires.
    if len(name) > 4 and name[:2] == "__" and name[-2:] == "__":
        return True
    # _N (output cache) and _iN (input history)
    rest = name[2:] if name[:2] == "_i" else name[1:]
    return rest.isdigit()


def _code_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _capped(names: list[str]) -> tuple[list[str], bool]:
    names.sort()
    if len(names) > MAX_NAMES:
        return names[:MAX_NAMES], True
    return names, False


def _tuple_ids_reader() -> Any:
    """A C-speed reader of the ids of a tuple's items, as one bytes object, or None.

    On CPython an object's id is its address and a tuple stores its items' addresses in one
    array after its header, so ``ctypes.string_at`` copies every id at once: ~1 us for 500
    values, where ``list(map(id, values))`` makes one int object per value (~15 us) and
    comparing those costs as much again. Checked on a probe tuple before use; elsewhere
    (PyPy, an unexpected layout) the caller falls back to ``struct.pack`` of the ids.
    """
    try:
        if sys.implementation.name != "cpython" or tuple.__itemsize__ != _ID_WIDTH:
            return None
        import ctypes

        string_at = ctypes.string_at
        header = tuple.__basicsize__

        def read(values: tuple[Any, ...]) -> bytes:
            return string_at(id(values) + header, len(values) * _ID_WIDTH)

        probe = (object(), "probe", 12345678901234567890, None)
        if read(probe) != struct.pack(f"{len(probe)}P", *map(id, probe)):
            return None
        return read
    except Exception:
        return None


_ID_WIDTH = struct.calcsize("P")
_MASK = (1 << 64) - 1


def _pack_ids(values: tuple[Any, ...]) -> bytes:
    # Elsewhere an id need not be an address (PyPy): 64 bits of it, one fixed width.
    return struct.pack(f"{len(values)}Q", *[i & _MASK for i in map(id, values)])


_read_ids: Any = _tuple_ids_reader()
_ID_FORMAT = "P"
if _read_ids is None:
    _read_ids, _ID_FORMAT, _ID_WIDTH = _pack_ids, "Q", 8


def _dict_version_reader() -> Any:
    """A reader of a dict's version tag (PEP 509), or None where there is none.

    CPython 3.6-3.13 give every dict a 64-bit tag that changes on each mutation (insert,
    delete, rebinding to another object) and never comes back to an old value: an unchanged
    tag proves an unchanged dict. It lets the snapshot before a cell reuse the one taken
    after the previous cell when nothing touched the namespace in between, the common case,
    instead of reading every watched value again. The field is read at its offset in the
    dict's header (after the refcount, type and size), only after a probe showed that it
    behaves so; otherwise (PyPy, 3.14+) every cell takes its own snapshot.
    """
    try:
        if sys.implementation.name != "cpython" or not (3, 6) <= sys.version_info[:2] < (3, 14):
            return None
        import ctypes

        offset = 2 * struct.calcsize("P") + struct.calcsize("n")
        if dict.__basicsize__ < offset + 8:
            return None
        string_at = ctypes.string_at

        def read(d: dict[str, Any]) -> bytes:
            return string_at(id(d) + offset, 8)

        probe: dict[str, Any] = {}
        other: dict[str, Any] = {}
        tags = [read(probe)]
        for change in (
            lambda: probe.__setitem__("a", object()),
            lambda: probe.__setitem__("a", object()),  # rebinding, same size
            lambda: probe.pop("a"),
            lambda: probe.__setitem__("b", 1),
        ):
            change()
            tags.append(read(probe))
        still = read(probe)
        other["x"] = 1  # another dict's change leaves this tag alone
        if len(set(tags)) != len(tags) or read(probe) != still or tags[-1] != still:
            return None
        return read
    except Exception:
        return None


_dict_version: Any = _dict_version_reader()


def _mismatches(a: bytes, b: bytes, n: int) -> list[int]:
    """Indices ``i < n`` whose ids differ between the packed id arrays ``a`` and ``b``.

    Bisects with slice comparisons (memcmp): a cell rebinds a few names out of hundreds, so
    this touches O(k log n) slices instead of n ints.
    """
    w = _ID_WIDTH
    out: list[int] = []
    stack = [(0, n)]
    while stack:
        lo, hi = stack.pop()
        if a[lo * w : hi * w] == b[lo * w : hi * w]:
            continue
        if hi - lo <= 8:
            for i in range(lo, hi):
                if a[i * w : i * w + w] != b[i * w : i * w + w]:
                    out.append(i)
            continue
        mid = (lo + hi) // 2
        stack.append((mid, hi))
        stack.append((lo, mid))
    return out


# (epoch, watched names, how many of them this snapshot covers, their values' ids packed)
_Snapshot = tuple[int, list[str], int, bytes]
_EMPTY: _Snapshot = (-1, [], 0, b"")
# The last keys of the namespace at a snapshot: the next snapshot finds them again just before
# the keys added since, or it rebuilds its view from the whole namespace.
_ANCHORS = 2


def _getter(names: list[str]) -> Any:
    """ns -> tuple of the values of ``names`` in one C call (itemgetter; a 1-tuple for one)."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        return lambda ns, k=names[0]: (ns[k],)
    return lambda ns: ()


class _Watch:
    """Cheap namespace snapshots: the ids of the values of the names that may be the user's.

    Cost is what counts here: the hooks run on every cell, and on real cells (cold caches)
    every object they touch is a likely cache miss. So a snapshot touches the watched names
    and their values, not the whole namespace:

    * IPython adds ``_iN`` (and ``_N``) names for every cell, so after a few hundred cells most
      of the namespace is its history. We keep the list of the other names (``watched``,
      namespace order) and, between snapshots, look only at the keys appended since. Dicts
      keep insertion order, so when ``len(ns)`` grew by k, the last k keys are all new (not
      in ``_known``) and the previous snapshot's last keys (``_ANCHORS``) sit right before
      them, then those k keys are the new ones and no older key was deleted: a deleted
      watched name fails the value lookup, a deleted fixed IPython name (``_``, ``_i``, ...)
      fails ``_present``, and a key deleted and bound again is not new. Anything else
      rebuilds the view from ``list(ns)`` in a new epoch, and the diff of two snapshots of
      different epochs compares names, not positions. (What this cannot see: a cell that
      deletes an ``_N``/``_iN`` cache name, and also deletes and rebinds both previous last
      keys, in order, before binding new names; its new names before those would be missed.)
    * ids, never references: holding the values would keep objects the cell (or anything
      between cells) unbinds (``del df``) alive, raising peak memory. The ids of all watched
      values are read in one C call (``_read_ids``) and compared as bytes.
    """

    def __init__(self) -> None:
        self.epoch = 0
        self.watched: list[str] = []  # only appended to within an epoch
        self._get: Any = _getter([])  # ns -> values of all watched names, one C call
        self._present: Any = _getter([])  # fixed IPython names: KeyError when one is gone
        self._fixed: list[str] = []
        self._known: set[str] = set()  # every key at the last snapshot
        self._ns: Any = None
        self._size = 0
        self._anchors: list[str] = []  # last keys at the last snapshot, last first
        self._last: _Snapshot | None = None  # the last snapshot, with the namespace's tag
        self._version: bytes | None = None

    def _rebuild(self, ns: dict[str, Any]) -> None:
        keys = list(ns)
        self.epoch += 1
        self.watched = [k for k in keys if not _is_ipython_name(k)]
        self._get = _getter(self.watched)
        self._fixed = [k for k in keys if k in _IPYTHON_NAMES]
        self._present = _getter(self._fixed)
        self._known = set(keys)
        self._ns = ns

    def _extend(self, ns: dict[str, Any]) -> bool:
        """Take in the keys appended since the last snapshot; False: rebuild instead."""
        if ns is not self._ns:
            return False
        k = len(ns) - self._size
        if k < 0:
            return False
        tail = list(islice(reversed(ns), k + _ANCHORS))
        if tail[k:] != self._anchors:
            return False
        if k == 0:
            return True
        new = tail[k - 1 :: -1]
        known = self._known
        for name in new:
            if name in known:  # deleted and bound again: it moved
                return False
        known.update(new)
        added = [name for name in new if not _is_ipython_name(name)]
        if added:
            self.watched.extend(added)
            self._get = _getter(self.watched)
        fixed = [name for name in new if name in _IPYTHON_NAMES]
        if fixed:
            self._fixed = self._fixed + fixed
            self._present = _getter(self._fixed)
        return True

    def snapshot(self, ns: dict[str, Any], reuse: bool = False) -> _Snapshot:
        """``reuse``: return the last snapshot if the namespace has not changed since."""
        version = _dict_version(ns) if _dict_version is not None else None
        if reuse and version is not None and version == self._version and ns is self._ns:
            return self._last  # type: ignore[return-value]
        try:
            if not self._extend(ns):
                self._rebuild(ns)
            self._present(ns)
            ids = _read_ids(self._get(ns))
        except KeyError:  # a watched or fixed name was deleted
            self._rebuild(ns)
            ids = _read_ids(self._get(ns))
        self._size = len(ns)
        self._anchors = list(islice(reversed(ns), _ANCHORS))
        self._last = snapshot = (self.epoch, self.watched, len(self.watched), ids)
        # Tag read before and after: a change made meanwhile (a thread) leaves no tag to match.
        if version is not None and _dict_version(ns) != version:
            version = None
        self._version = version
        return snapshot


def _diff(before: _Snapshot, after: _Snapshot) -> tuple[list[str], list[str]]:
    """(names bound or rebound, names deleted) between two snapshots."""
    epoch, watched, n, ids = before
    epoch2, watched2, n2, ids2 = after
    if epoch == epoch2 and watched is watched2:
        # No name deleted: watched names keep their positions (rebinding does not move a key)
        # and new ones come after them. Compare the packed ids with memcmp.
        same = ids2[: len(ids)] == ids
        changed = [] if same else [watched[i] for i in _mismatches(ids, ids2, n)]
        changed.extend(watched2[n:n2])
        return changed, []
    old = dict(zip(watched[:n], struct.unpack(f"{n}{_ID_FORMAT}", ids)))  # noqa: B905
    new = dict(zip(watched2[:n2], struct.unpack(f"{n2}{_ID_FORMAT}", ids2)))  # noqa: B905
    changed = [k for k, v in new.items() if old.get(k) != v]
    return changed, [k for k in old if k not in new]


class _Pending:
    __slots__ = ("info", "msg_id", "snapshot", "t0")

    def __init__(self, info: Any, msg_id: str | None, snapshot: _Snapshot | None) -> None:
        self.info = info
        self.msg_id = msg_id
        self.snapshot = snapshot
        self.t0 = time.perf_counter()


class Tracker:
    """The per-process state: context id, ledger, and the IPython/ipykernel hooks."""

    def __init__(self, ip: Any) -> None:
        self.ip = ip
        self.context = str(uuid.uuid4())
        self.pid = os.getpid()
        self.started = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self.ledger: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self.seq = 0
        self.dropped = 0
        # Outermost run first; nested run_cell calls (a cell calling ip.run_cell) are folded
        # into the outer record because its namespace diff already covers them.
        self._stack: list[_Pending] = []
        self._watch = _Watch()
        self._request: str | None = None  # msg_id of the execute_request being handled
        self._replies: dict[str, dict[str, Any]] = {}  # msg_id -> record, until the reply

    # -- IPython events -------------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        try:
            if self._stack:
                self._stack.append(_Pending(info, None, None))
                return
            self._stack.append(
                _Pending(info, self._request, self._watch.snapshot(self.ip.user_ns, True))
            )
        except Exception:
            _log.debug("pre_run_cell failed", exc_info=True)

    def post_run_cell(self, result: Any) -> None:
        try:
            info = getattr(result, "info", None)
            # Match the pending run: IPython fires post_run_cell without pre_run_cell for
            # empty cells, so a post without its pre is ignored.
            index = None
            for i in range(len(self._stack) - 1, -1, -1):
                if self._stack[i].info is info or (result is None and i == len(self._stack) - 1):
                    index = i
                    break
            if index is None:
                return
            pending = self._stack[index]
            del self._stack[index:]
            if index == 0 and pending.snapshot is not None:
                self._record(pending, result)
        except Exception:
            _log.debug("post_run_cell failed", exc_info=True)

    def _record(self, pending: _Pending, result: Any) -> None:
        ms = (time.perf_counter() - pending.t0) * 1000.0
        ns = self.ip.user_ns
        changed, gone = _diff(pending.snapshot or _EMPTY, self._watch.snapshot(ns))
        hidden = getattr(self.ip, "user_ns_hidden", {})
        defined = []
        for name in changed:
            if _is_ipython_name(name):
                continue
            if name in hidden and hidden[name] is ns.get(name):
                continue
            defined.append(name)
        deleted = [n for n in gone if not _is_ipython_name(n)]
        defined, cut_defined = _capped(defined)
        deleted, cut_deleted = _capped(deleted)
        info = pending.info
        raw = getattr(info, "raw_cell", "") or ""
        self.seq += 1
        record = {
            "seq": self.seq,
            "cell": getattr(info, "cell_id", None),
            "code": _code_hash(raw),
            "status": "ok" if result is not None and result.success else "error",
            "ms": round(ms, 2),
            "defined": defined,
            "deleted": deleted,
            "count": getattr(result, "execution_count", None),
            "context": self.context,
            "truncated": cut_defined or cut_deleted,
        }
        if len(self.ledger) == self.ledger.maxlen:
            self.dropped += 1
        self.ledger.append(record)
        if pending.msg_id is not None:
            self._replies[pending.msg_id] = record

    # -- ipykernel reply metadata ---------------------------------------------------------------

    def wrap_kernel(self) -> bool:
        """Wrap ``init_metadata``/``finish_metadata`` of ``ip.kernel`` (instance attributes)."""
        kernel = getattr(self.ip, "kernel", None)
        if kernel is None:
            return False
        init = getattr(kernel, "init_metadata", None)
        finish = getattr(kernel, "finish_metadata", None)
        if not callable(init) or not callable(finish):
            return False
        if getattr(finish, "_revive_wrapped", False):
            return True
        tracker = self

        def init_metadata(parent: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                tracker._request = parent["header"]["msg_id"]
            except Exception:
                tracker._request = None
            return init(parent, *args, **kwargs)

        def finish_metadata(parent: Any, metadata: Any, *args: Any, **kwargs: Any) -> Any:
            metadata = finish(parent, metadata, *args, **kwargs)
            try:
                record = tracker._replies.pop(parent["header"]["msg_id"], None)
                if tracker._replies:  # a request that never got its reply: don't leak
                    tracker._replies.clear()
                if record is not None and isinstance(metadata, dict):
                    metadata["revive"] = record
            except Exception:
                _log.debug("finish_metadata hook failed", exc_info=True)
            return metadata

        init_metadata._revive_wrapped = True  # type: ignore[attr-defined]
        finish_metadata._revive_wrapped = True  # type: ignore[attr-defined]
        kernel.init_metadata = init_metadata
        kernel.finish_metadata = finish_metadata
        return True

    # -- queries --------------------------------------------------------------------------------

    def context_dict(self, since: int = 0) -> dict[str, Any]:
        executions = [r for r in self.ledger if r["seq"] > since] if since else list(self.ledger)
        return {
            "context": self.context,
            "pid": self.pid,
            "started": self.started,
            "tracker": TRACKER_VERSION,
            "seq": self.seq,
            "dropped": self.dropped,
            "executions": executions,
        }

    def user_names(self) -> list[str]:
        ns = self.ip.user_ns
        hidden = getattr(self.ip, "user_ns_hidden", {})
        names = []
        for name, value in ns.items():
            if _is_ipython_name(name):
                continue
            if name in hidden and hidden[name] is value:
                continue
            names.append(name)
        return names

    def variables_dict(
        self, names: list[str] | None = None, detail: bool = False
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        ns = self.ip.user_ns
        missing: list[str] = []
        if names is None:
            wanted = self.user_names()
            total = len(wanted)
            wanted.sort(key=lambda n: (_kind_rank(ns[n]), n))
        else:
            wanted = []
            for name in names:
                if isinstance(name, str) and name in ns:
                    wanted.append(name)
                else:
                    missing.append(str(name))
            total = len(wanted)
        truncated = len(wanted) > MAX_VARIABLES
        variables = []
        partial = False
        for name in wanted[:MAX_VARIABLES]:
            value = ns[name]
            if partial or time.perf_counter() - t0 > SUMMARY_BUDGET_S:
                partial = True
                variables.append({"name": name, "type": _type_name(type(value))})
                continue
            variables.append(summarize(name, value, detail))
        answer: dict[str, Any] = {
            "context": self.context,
            "variables": variables,
            "total": total,
            "truncated": truncated,
        }
        if partial:
            answer["partial"] = True
        if names is not None:
            answer["missing"] = missing
        answer["elapsed_ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
        return answer


# -- variable summaries ---------------------------------------------------------------------------


def _type_name(t: type) -> str:
    module = getattr(t, "__module__", None) or ""
    qualname = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    return str(qualname) if module == "builtins" else f"{module}.{qualname}"


def _kind_rank(value: Any) -> int:
    # Data first, then code, then modules: what a prompt or a person wants to see first.
    t = type(value)
    if t.__name__ == "module":
        return 2
    if isinstance(value, type) or t.__name__ in _CODE_TYPES:
        return 1
    return 0


def _cut(text: str, limit: int = REPR_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shape_list(shape: Any) -> list[Any] | None:
    try:
        return [int(d) if isinstance(d, int) or hasattr(d, "__index__") else str(d) for d in shape]
    except Exception:
        return None


def _heavy_placeholder(x: Any) -> str | None:
    t = type(x)
    root = (getattr(t, "__module__", "") or "").partition(".")[0]
    if root not in _ARRAY_LIBS:
        return None
    shape = getattr(x, "shape", None) if root in ("pandas", "numpy") else None
    if isinstance(shape, tuple) and len(shape) > 0:
        return f"<{t.__name__} {'x'.join(str(d) for d in shape)}>"
    if root in ("pandas", "numpy"):
        return None  # scalars (np.float64, pd.Timestamp) have cheap reprs
    return f"<{t.__name__}>"


class _ShortRepr(reprlib.Repr):
    """reprlib with a guard: objects of array libraries inside containers never get repr'd."""

    def repr1(self, x: Any, level: int) -> str:
        placeholder = _heavy_placeholder(x)
        if placeholder is not None:
            return placeholder
        return super().repr1(x, level)

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: Any, level: int) -> str:
        try:
            text = repr(x)
        except Exception:
            return f"<{type(x).__name__} instance (repr failed)>"
        return _cut(text, self.maxother)


def _make_repr(big: bool) -> _ShortRepr:
    r = _ShortRepr()  # Python < 3.12 has no keyword arguments here
    r.maxlevel = 3 if big else 2
    r.maxstring = 2000 if big else REPR_CHARS
    r.maxother = 2000 if big else REPR_CHARS
    r.maxlong = 200 if big else 60
    for attr in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
        setattr(r, attr, 50 if big else 8)
    r.maxarray = 50 if big else 8
    return r


_SHORT = _make_repr(False)
_LONG = _make_repr(True)


def _short(value: Any) -> str:
    try:
        return _cut(_SHORT.repr(value))
    except Exception:
        return f"<{type(value).__name__} (repr failed)>"


def summarize(name: str, value: Any, detail: bool = False) -> dict[str, Any]:
    """Bounded description of one variable; never calls repr on a large array-like."""
    entry: dict[str, Any] = {"name": name, "type": _type_name(type(value))}
    try:
        pd = sys.modules.get("pandas")
        np = sys.modules.get("numpy")
        if pd is not None and isinstance(value, pd.DataFrame):
            _describe_frame(entry, value, pd, detail)
        elif pd is not None and isinstance(value, (pd.Series, pd.Index)):
            _describe_series(entry, value, detail)
        elif np is not None and isinstance(value, np.ndarray):
            _describe_array(entry, value, np, detail)
        elif isinstance(value, _SIZED):
            entry["len"] = len(value)
            entry["repr"] = _short(value)
            if detail:
                entry["detail"] = _cut(_LONG.repr(value), DETAIL_CHARS)
        else:
            placeholder = _heavy_placeholder(value)
            if placeholder is not None:
                shape = getattr(value, "shape", None)
                if isinstance(shape, tuple):
                    entry["shape"] = _shape_list(shape)
                entry["repr"] = placeholder
            else:
                entry["repr"] = _short(value)
            if detail:
                entry["detail"] = _detail_text(value, placeholder)
    except Exception as e:  # a summary must never fail the whole answer
        entry["error"] = _cut(f"{type(e).__name__}: {e}")
    return entry


def _describe_frame(entry: dict[str, Any], df: Any, pd: Any, detail: bool) -> None:
    rows, ncols = df.shape
    entry["shape"] = [int(rows), int(ncols)]
    entry["len"] = int(rows)
    # A zero-row slice keeps dtypes cheap on very wide frames.
    head = df if ncols <= 1000 else df.iloc[:0, :MAX_COLUMNS]
    dtypes = head.dtypes
    columns = []
    for i in range(min(ncols, MAX_COLUMNS)):
        columns.append({"name": _cut(str(df.columns[i]), 80), "dtype": str(dtypes.iloc[i])})
    entry["columns"] = columns
    if ncols > MAX_COLUMNS:
        entry["columns_truncated"] = True
    entry["repr"] = f"DataFrame with {rows} rows x {ncols} columns"
    if detail:
        entry["detail"] = _frame_detail(df, pd)


def _frame_detail(df: Any, pd: Any) -> str:
    rows, ncols = df.shape
    sub = df.iloc[:, :30]
    parts = ["head(5):", sub.head(5).to_string(max_colwidth=40, max_cols=30)]
    # describe() reads every row: on a big frame use an evenly spaced sample.
    step = max(1, rows // 100_000)
    sample = sub.iloc[::step] if step > 1 else sub
    try:
        described = sample.describe(include="all").to_string(max_colwidth=30, max_cols=30)
        label = "describe():" if step == 1 else f"describe() of every {step}th row:"
        parts += [label, described]
    except Exception:
        pass
    if ncols > 30:
        parts.append(f"({ncols - 30} more columns not shown)")
    return _cut("\n".join(parts), DETAIL_CHARS)


def _describe_series(entry: dict[str, Any], s: Any, detail: bool) -> None:
    entry["len"] = len(s)
    entry["shape"] = [len(s)]
    entry["dtype"] = str(s.dtype)
    name = getattr(s, "name", None)
    if name is not None:
        entry["series_name"] = _cut(str(name), 80)
    values = _SHORT.repr(list(s[:5])) if len(s) else "[]"
    entry["repr"] = _cut(f"{type(s).__name__} len={len(s)} dtype={s.dtype} {values}")
    if detail:
        series = s.to_series() if not hasattr(s, "describe") else s  # an Index has no describe
        text = "head(10):\n" + series.iloc[:10].to_string()
        step = max(1, len(series) // 100_000)  # describe() reads every row: sample big ones
        with contextlib.suppress(Exception):
            text += "\ndescribe():\n" + series.iloc[::step].describe().to_string()
        entry["detail"] = _cut(text, DETAIL_CHARS)


def _describe_array(entry: dict[str, Any], a: Any, np: Any, detail: bool) -> None:
    entry["shape"] = [int(d) for d in a.shape]
    if a.ndim:
        entry["len"] = int(a.shape[0])
    entry["dtype"] = str(a.dtype)
    entry["nbytes"] = int(a.nbytes)
    # threshold keeps numpy summarising ("...") instead of formatting every element.
    entry["repr"] = _cut(np.array2string(a, threshold=20, edgeitems=3, max_line_width=REPR_CHARS))
    if detail:
        text = np.array2string(a, threshold=200, edgeitems=5, max_line_width=100)
        if a.size and a.dtype.kind in "biuf":
            flat = a.reshape(-1)
            step = max(1, flat.size // 1_000_000)
            sample = flat[::step]
            text += f"\nmin={sample.min()!r} max={sample.max()!r} mean={sample.mean()!r}" + (
                "" if step == 1 else f" (every {step}th element)"
            )
        entry["detail"] = _cut(text, DETAIL_CHARS)


def _detail_text(value: Any, placeholder: str | None) -> str:
    import inspect

    if placeholder is not None:
        return placeholder
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
        try:
            return _cut(inspect.getsource(value), DETAIL_CHARS)
        except Exception:
            try:
                return _cut(f"{getattr(value, '__name__', '?')}{inspect.signature(value)}")
            except Exception:
                pass
    if inspect.ismodule(value):
        version = getattr(value, "__version__", None)
        return f"module {value.__name__}" + (f" {version}" if isinstance(version, str) else "")
    try:
        return _cut(_LONG.repr(value), DETAIL_CHARS)
    except Exception:
        return _short(value)


# -- extension entry points -----------------------------------------------------------------------

_tracker: Tracker | None = None


def _unhide_launch_dir() -> None:
    """Take the provisioner's private directory off sys.path and PYTHONPATH again."""
    directory = os.environ.pop(DIR_ENV, None)
    if not directory:
        return
    norm = os.path.normcase(os.path.abspath(directory))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.abspath(p or ".")) != norm]
    sys.path_importer_cache.pop(directory, None)
    value = os.environ.get("PYTHONPATH")
    if value is None:
        return
    if value == directory:
        del os.environ["PYTHONPATH"]
    elif value.startswith(directory + os.pathsep):
        os.environ["PYTHONPATH"] = value[len(directory) + len(os.pathsep) :]


def load_ipython_extension(ip: Any) -> None:
    """Start tracking in this process; loading again (by any module name) changes nothing."""
    global _tracker
    try:
        _unhide_launch_dir()
    except Exception:
        _log.debug("could not restore sys.path/PYTHONPATH", exc_info=True)
    existing = sys.modules.get(MODULE_NAME)
    if existing is not None and getattr(existing, "_tracker", None) is not None:
        if _tracker is None and existing is not sys.modules.get(__name__):
            _tracker = existing._tracker  # same process, other module object: share its state
        return
    if _tracker is not None:
        return
    tracker = Tracker(ip)
    ip.events.register("pre_run_cell", tracker.pre_run_cell)
    ip.events.register("post_run_cell", tracker.post_run_cell)
    try:
        tracker.wrap_kernel()
    except Exception:
        _log.debug("could not wrap kernel metadata hooks", exc_info=True)
    _tracker = tracker
    # Queries look the tracker up under one name, however it was loaded.
    module = sys.modules.get(__name__)
    if module is not None:
        sys.modules.setdefault(MODULE_NAME, module)


def _require() -> Tracker:
    if _tracker is None:
        raise RuntimeError("jupyter-revive tracker is not loaded")
    return _tracker


def context_json(since: int = 0) -> str:
    """``{"context","pid","started","tracker","seq","dropped","executions":[record...]}``."""
    return json.dumps(_require().context_dict(since), separators=(",", ":"))


# Names only, for planning: a kernel may hold more names than a summary lists.
MAX_NAME_LIST = 100_000


def names_json() -> str:
    """``{"context","names":[...],"truncated"}``: every user name (no values), sorted."""
    tracker = _require()
    names = sorted(tracker.user_names())
    return json.dumps(
        {
            "context": tracker.context,
            "names": names[:MAX_NAME_LIST],
            "truncated": len(names) > MAX_NAME_LIST,
        },
        separators=(",", ":"),
    )


def variables_json(names: list[str] | None = None, detail: bool = False) -> str:
    """Bounded summary of user variables (at most ``MAX_VARIABLES``, ~120-char reprs).

    ``{"context","variables":[{"name","type","shape"?,"len"?,"dtype"?,"columns"?,"repr"}],
    "total","truncated","missing"? (when names are given),"partial"? (time budget hit)}``.
    ``detail=True`` adds a ``detail`` text (at most 4 KB) per variable: head/describe for
    DataFrames, a fuller repr otherwise, the source of functions and classes.
    """
    return json.dumps(_require().variables_dict(names, detail), separators=(",", ":"), default=str)
