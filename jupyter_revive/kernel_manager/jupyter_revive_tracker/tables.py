"""Namespace snapshots read from the dict's own entry table: one memory copy per snapshot.

``snapshots.Watch`` looks up every watched name and reads its value's id, which on real
cells (caches cold after the kernel's own work) costs a few cache misses per name. A CPython
dict keeps its entries in one array of ``(key, value)`` addresses (plus the hash for non-str
keys), in insertion order; rebinding a name overwrites its value address in place, deleting one
zeroes its entry, a new name is appended, and only a resize (a new table) moves entries. So one
copy of that array, compared as bytes with the previous copy, gives every name bound, rebound
or deleted, touching neither keys nor values (~2 us warm for ~1,500 entries). Counted in a
kernel's small-cell replay (``benchmarks/bench_tracker_cycles.py``), the tracker's hooks cost
~10% fewer cycles with this watch than with the portable one.

Safety of reading another object's memory:

* The layout (CPython 3.11 and later, 64-bit, with the GIL) is checked on probe dicts at import
  against ``id`` of their keys and values, before and after rebinding, deleting and adding;
  anything unexpected leaves ``TableWatch`` unused (``make_watch`` gives ``snapshots.Watch``).
* From reading the table's address to the end of the copy, ``_read`` makes no call: attribute
  reads, subscripts and arithmetic, so no other thread can take the GIL in between (CPython
  hands it over only at calls, function entries and backward jumps) and resize or free the
  table. The collector, which 3.11 may run on an allocation and which runs finalizers, is
  switched off around it.
* Positions are named from ``list(ns)``/``reversed(ns)`` and every name is checked against the
  key address in the copy; the names are held, so an address seen again is the same string.
"""

from __future__ import annotations

import gc
import operator
import struct
import sys
import sysconfig
from collections.abc import Callable
from itertools import compress, islice
from typing import Any

from .names import CACHE_NAMES, is_owned_name
from .snapshots import Unchanged, _mismatches

_HEAD = 32  # bytes before the index array: refcount, log2 size, log2 index bytes, kind, ...
_UNICODE = 1  # the table's kind: str keys only, 16-byte entries (key, value)
_GENERAL = 0  # any keys: 24-byte entries (hash, key, value)
_NULL = bytes(8)


def _head_type() -> Any:
    """A ctypes view type of a dict's header whose ``table`` field reads its entry table."""
    import ctypes

    class Head(ctypes.Structure):
        _fields_ = [
            ("refcount", ctypes.c_ssize_t),
            ("type", ctypes.c_void_p),
            ("used", ctypes.c_ssize_t),
            ("tag", ctypes.c_uint64),
            # Never allocated: a view of the table, however large; ``_read`` slices it.
            ("table", ctypes.POINTER(ctypes.c_char * (1 << 40))),
            ("values", ctypes.c_void_p),
        ]

    return Head


def _read(head: Any) -> tuple[Any, bytes, int]:
    """(the table as a ctypes view, a copy of its entries, the table's kind) of the dict whose
    header ``head`` views. No call in here: see the module docstring."""
    table = head.table.contents
    top = table[0:_HEAD]
    start = _HEAD + (1 << top[9])
    count = top[24] | top[25] << 8 | top[26] << 16 | top[27] << 24
    return table, table[start : start + count * (16 if top[10] == _UNICODE else 24)], top[10]


def _reader() -> Any:
    """``head(d)``: a view of dict ``d``'s header for ``_copy`` (the caller keeps ``d``
    alive); or None where this interpreter's dicts are not laid out as checked (see the module
    docstring)."""
    try:
        if sys.implementation.name != "cpython" or sys.version_info < (3, 11):
            return None
        if struct.calcsize("P") != 8 or sysconfig.get_config_var("Py_GIL_DISABLED"):
            return None
        import ctypes

        head_type = _head_type()
        if ctypes.sizeof(head_type) != dict.__basicsize__:
            return None

        def head(d: dict[Any, Any]) -> Any:
            return head_type.from_address(id(d))

        return head if _probe(head) else None
    except Exception:
        return None


def _uncollected(read: Callable[[Any], Any], of: Any) -> Any:
    """``read(of)`` with the collector off: a collection may run finalizers, and one could
    resize the container being read."""
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return read(of)
    finally:
        if collecting:
            gc.enable()


def _copy(head: Any) -> tuple[int, bytes, int] | None:
    """(table address, a copy of its entries, entry width) of the dict ``head`` views; None
    for a split table (an instance's ``__dict__``, whose values are elsewhere)."""
    table, raw, kind = _uncollected(_read, head)
    if kind == _UNICODE:
        return _address_of(table), raw, 16
    if kind == _GENERAL:
        return _address_of(table), raw, 24
    return None


def _entries(d: dict[Any, Any]) -> list[tuple[int, int]]:
    """What a reader must find: (key id, value id) of every entry, in order."""
    return [(id(k), id(v)) for k, v in d.items()]


def _decode(raw: bytes, width: int) -> list[tuple[int, int]]:
    words = struct.unpack(f"{len(raw) // 8}Q", raw)
    step = width // 8
    return [(words[i + step - 2], words[i + step - 1]) for i in range(0, len(words), step)]


_PROBE_CHANGES: tuple[Callable[[dict[Any, Any]], Any], ...] = (
    lambda d: None,
    lambda d: d.__setitem__("probe_0", object()),  # rebound in place
    lambda d: d.__setitem__("added", object()),
    lambda d: d.pop("probe_0", None),
    lambda d: d.__setitem__(1, 2),  # a non-str key: general entries with hashes
)


def _probe(head_of: Any) -> bool:
    for size in (0, 1, 5, 6, 40, 300):  # 1- and 2-byte index arrays, split at 256 slots
        d: dict[Any, Any] = {f"probe_{i}": object() for i in range(size)}
        head = head_of(d)
        for change in _PROBE_CHANGES:
            change(d)
            found = _copy(head)
            if found is None:
                return False
            _, raw, width = found
            live = [(k, v) for k, v in _decode(raw, width) if k]
            if live != _entries(d):
                return False
    return True


def _address_getter() -> Any:
    try:
        import ctypes

        return ctypes.addressof
    except Exception:
        return None


_address_of: Any = _address_getter()
_head_of: Any = _reader() if _address_of is not None else None


def _list_reader() -> Any:
    """``items(lst)``: a copy of list ``lst``'s item pointers (its elements' ids, packed), read
    like a dict's table (no call between reading the array's address and the copy; the caller
    switches the collector off around it); or None where lists are not laid out as checked."""
    try:
        if _head_of is None:  # the same interpreter conditions as the dict reader
            return None
        import ctypes

        class ListHead(ctypes.Structure):
            _fields_ = [
                ("refcount", ctypes.c_ssize_t),
                ("type", ctypes.c_void_p),
                ("size", ctypes.c_ssize_t),
                ("items", ctypes.POINTER(ctypes.c_char * (1 << 40))),
                ("allocated", ctypes.c_ssize_t),
            ]

        if ctypes.sizeof(ListHead) != list.__basicsize__:
            return None
        at = ListHead.from_address

        def items(lst: list[Any]) -> bytes:
            head = at(id(lst))
            n = head.size
            return head.items.contents[0 : n * 8] if n > 0 else b""

        for size in (0, 1, 5, 300):
            probe: list[Any] = [object() for _ in range(size)]
            for change in (lambda p: None, lambda p: p.append(object()), lambda p: p.pop(0)):
                change(probe)
                if items(probe) != struct.pack(f"{len(probe)}Q", *map(id, probe)):
                    return None
        return items
    except Exception:
        return None


_list_items: Any = _list_reader()


def identities(container: Any) -> int | None:
    """Hash of the ids of a list's items, or of a dict's keys and values (its entry table, in
    order), from one copy of the container's memory: no step per element. None where it cannot
    be read so (a split instance dict, another interpreter): then count the elements one by
    one."""
    if isinstance(container, list):
        return None if _list_items is None else hash(_uncollected(_list_items, container))
    if isinstance(container, dict) and _head_of is not None:
        found = _copy(_head_of(container))
        return None if found is None else hash(found[1])
    return None


# (table address, entry width, names of the positions, positions covered, the entries' bytes).
# Address 0: the entries were made from the namespace's items (an unreadable table).
TableSnapshot = tuple[int, int, list[Any], int, bytes]


class TableWatch:
    """``snapshots.Watch``'s interface (``snapshot``, ``diff``, ``bound_to``, ``holding``,
    ``watched``) over copies of the namespace's entry table.

    A snapshot compares its copy with the last one at once (the tracker always diffs those
    two) and keeps the result for ``diff``. The positions of IPython's caches (``_``, ``_i``,
    ...), which it rebinds around every cell, are left out of that comparison: left in, every
    cell would search for them. They are never the user's."""

    def __init__(self) -> None:
        self._ns: Any = None
        self._head: Any = None
        self._address = 0
        self._width = 0
        # The key (a str, held: its address stays its own) at each position of the table at
        # ``_address``; only appended to while the table stays the same.
        self._names: list[Any] = []
        # Byte ranges of the table compared between snapshots: all but IPython's caches. The
        # last range's end is None: the end of the older copy.
        self._ranges: list[tuple[int, Any]] = [(0, None)]
        self._last: TableSnapshot | None = None
        self._delta: tuple[Any, Any, list[str], list[str]] = (None, None, [], [])
        self._unchanged = Unchanged()
        # holding(): as in snapshots.Watch
        self._kinds_of: frozenset[type] | None = None
        self._kinds_at: Any = None
        self._holding: set[str] = set()

    @property
    def watched(self) -> list[str]:
        """The namespace's names that may be the user's, in namespace order."""
        if self._last is None:
            return []
        return _users(name for name, _ in _named_values(self._last))

    def snapshot(self, ns: dict[str, Any], reuse: bool = False) -> TableSnapshot:
        """``reuse``: return the last snapshot if the namespace has not changed since."""
        tag = self._unchanged.now(ns)
        if reuse and ns is self._ns and self._unchanged.since(tag):
            return self._last  # type: ignore[return-value]
        if ns is not self._ns:
            self._ns, self._head, self._address, self._names = ns, _head_of(ns), 0, []
        found = _copy(self._head)
        snapshot = self._named(ns, *found) if found is not None else None
        if snapshot is None:  # a split table, or a thread changed the namespace meanwhile
            snapshot = self._from_items(ns)
        self._last = snapshot
        self._unchanged.taken(tag)
        return snapshot

    def _named(
        self, ns: dict[str, Any], address: int, raw: bytes, width: int
    ) -> TableSnapshot | None:
        """The snapshot of a table copy, its positions named and compared with the last
        snapshot; None if the names did not match the copy (another thread changed it)."""
        n = len(raw) // width
        names = self._names
        known = len(names)
        last = self._last
        if address == self._address and width == self._width and n >= known and last is not None:
            before = last[4]
            view = memoryview(before)  # compared in place, no copies
            changed: list[int] = []
            for start, end in self._ranges:
                end = end or len(before)
                if start < end and not raw.startswith(view[start:end], start):
                    changed += _mismatches(before, raw, end // width, width, start // width)
            key = width - 16
            gone: list[str] = []
            bound: list[str] = []
            for i in changed:
                at = i * width + key
                now = raw[at : at + 8]
                if now == _NULL:
                    gone.append(names[i])
                elif now == before[at : at + 8]:
                    bound.append(names[i])
                else:
                    break  # a new key at an old position: another table at the same address
            else:
                if n > known:
                    added = self._append(ns, raw, width, known, n)
                    if added is None:
                        return None
                    bound += [name for name in added if name is not None]
                snapshot = (address, width, names, n, raw)
                if gone and not set(gone).isdisjoint(bound):  # deleted, bound again: moved
                    self._delta = (None, None, [], [])
                    self._kinds_of = None  # holding() starts over
                elif bound or gone:
                    bound, gone = _users(bound), _users(gone)
                    self._delta = (last, snapshot, bound, gone)
                    if self._kinds_of is not None:
                        self._hold(ns, bound, gone)
                else:
                    self._delta = (last, snapshot, bound, gone)
                return snapshot
        aligned = self._align(ns, raw, width)
        if aligned is None:
            return None
        self._address, self._width, self._names = address, width, aligned
        self._ranges = _ranges(aligned, width)
        return (address, width, aligned, n, raw)

    def _append(
        self, ns: dict[str, Any], raw: bytes, width: int, known: int, n: int
    ) -> list[Any] | None:
        """Name the positions from ``known`` on: the namespace's last keys (a dict appends).
        Their names (None where deleted since), or None if the keys do not match."""
        step = width // 8
        words = struct.unpack_from(f"{(n - known) * step}Q", raw, known * width)
        keys = words[step - 2 :: step]
        live = [key for key in keys if key] if 0 in keys else keys
        found: list[Any] = list(islice(reversed(ns), len(live)))
        found.reverse()
        if tuple(map(id, found)) != tuple(live):
            return None
        if live is not keys:
            names = iter(found)
            found = [next(names) if key else None for key in keys]
        self._names += found
        if not CACHE_NAMES.isdisjoint(found):  # IPython's first ``_`` (its first output)
            self._ranges = _ranges(self._names, width)
        return found

    @staticmethod
    def _align(ns: dict[str, Any], raw: bytes, width: int) -> list[Any] | None:
        """Names of every position of a copy, from the namespace's keys in order."""
        pairs = _decode(raw, width)
        keys = iter(list(ns))
        names = [next(keys, None) if key else None for key, _ in pairs]
        if next(keys, None) is not None:
            return None
        if any(id(name) != key for name, (key, _) in zip(names, pairs) if key):  # noqa: B905
            return None
        return names

    def _from_items(self, ns: dict[str, Any]) -> TableSnapshot:
        """A snapshot made from the namespace's items (address 0: compared by name)."""
        names = list(ns)
        values = list(map(ns.__getitem__, names))
        raw = struct.pack(
            f"{2 * len(names)}Q",
            *[i for pair in zip(map(id, names), map(id, values)) for i in pair],  # noqa: B905
        )
        self._address, self._names = 0, []
        return (0, 16, names, len(names), raw)

    def diff(self, before: TableSnapshot, after: TableSnapshot) -> tuple[list[str], list[str]]:
        """(names bound or rebound, names deleted) between two snapshots, the interpreter's
        own names (``is_owned_name``) left out."""
        last, now, bound, gone = self._delta
        if last is before and now is after:
            return bound, gone
        address, width, names, n, raw = before
        if address and address == after[0] and width == after[1] and names is after[2]:
            # The same table: positions kept their keys (each snapshot since checked it).
            now = after[4]
            key = width - 16
            bound = [name for name in names[n : after[3]] if name is not None]
            gone = []
            for i in _mismatches(raw, now, n, width):
                at = i * width + key
                (gone if now[at : at + 8] == _NULL else bound).append(names[i])
            if not gone or set(gone).isdisjoint(bound):
                return _users(bound), _users(gone)
        old = dict(_named_values(before))
        new = dict(_named_values(after))
        moved = [name for name, v in new.items() if old.get(name) != v]
        return _users(moved), _users(name for name in old if name not in new)

    def bound_to(self, ns: dict[str, Any], ids: set[int]) -> list[str]:
        """Names (not the interpreter's) of ``ns`` bound now to one of the objects whose ``id``
        is in ``ids``, found in the entries' bytes: no value is touched."""
        _, width, names, _, raw = self.snapshot(ns, True)
        at_value = width - 8
        found = []
        for address in ids:
            needle = struct.pack("Q", address)
            at = raw.find(needle)
            while at != -1:
                if at % width == at_value:
                    found.append(names[at // width])
                at = raw.find(needle, at + 1)
        return _users(found)

    def holding(self, ns: dict[str, Any], kinds: frozenset[type]) -> set[str]:
        """As ``snapshots.Watch.holding``: names bound now to a value whose type is not in
        ``kinds``. Kept up to date by every snapshot from the names it found bound or deleted
        (a look at the values of those only), once asked for."""
        now = self.snapshot(ns, True)
        if kinds is not self._kinds_of or now[2] is not self._kinds_at:
            watched = self.watched
            values = map(ns.__getitem__, watched)
            keep = map(operator.not_, map(kinds.__contains__, map(type, values)))
            self._holding = set(compress(watched, keep))
            self._kinds_of = kinds
        self._kinds_at = now[2]  # the table whose snapshots keep it up to date
        return self._holding

    def _hold(self, ns: dict[str, Any], bound: list[str], gone: list[str]) -> None:
        holding = self._holding
        holding.difference_update(gone)
        kinds = self._kinds_of
        for name in bound:
            if type(ns.get(name)) in kinds:  # type: ignore[operator]
                holding.discard(name)
            else:
                holding.add(name)


def _ranges(names: list[Any], width: int) -> list[tuple[int, Any]]:
    """Byte ranges of a table's entries but those of IPython's caches (``TableWatch``):
    neighbouring caches (``_i _ii _iii``) leave no range between them."""
    ranges: list[tuple[int, Any]] = []
    start = 0
    for i, name in enumerate(names):
        if name in CACHE_NAMES:
            if i * width > start:
                ranges.append((start, i * width))
            start = (i + 1) * width
    ranges.append((start, None))
    return ranges


def _users(names: Any) -> list[str]:
    """Those of ``names`` that may be the user's (``is_owned_name``)."""
    return [k for k in names if not is_owned_name(k)]


def _named_values(snapshot: TableSnapshot) -> list[tuple[str, int]]:
    _, width, names, n, raw = snapshot
    pairs = _decode(raw, width)
    return [(name, value) for name, (key, value) in zip(names[:n], pairs) if key]  # noqa: B905


def make_watch() -> Any:
    """The namespace watch for this interpreter: ``TableWatch`` where the table reader passed
    its probe, else the portable ``snapshots.Watch``."""
    from .snapshots import Watch

    return TableWatch() if _head_of is not None else Watch()
