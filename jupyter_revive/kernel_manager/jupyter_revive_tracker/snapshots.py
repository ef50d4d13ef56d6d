"""Cheap namespace snapshots: the ids of the values of the names that may be the user's.

A snapshot before and after a cell, and ``diff`` of the two, give the names the cell bound,
rebound (by identity) or deleted. The hooks run on every cell, so this module is about cost:
ids read in one C call (``ctypes`` where CPython's layout allows, checked on a probe first),
compared as bytes, and a namespace whose PEP 509 version tag did not change is not read again.
"""

from __future__ import annotations

import operator
import struct
import sys
from itertools import compress, islice
from operator import itemgetter
from typing import Any

from .names import OWNED_NAMES, is_owned_name


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


def dict_tag_factory() -> Any:
    """``tag(d)``: a live view of dict ``d``'s version tag (PEP 509), read as ``.value``; or None
    where there is none.

    CPython 3.6-3.13 give every dict a 64-bit tag that changes on each mutation (insert,
    delete, rebinding to another object) and never comes back to an old value: an unchanged
    tag proves an unchanged dict. It lets the snapshot before a cell reuse the one taken
    after the previous cell when nothing touched the namespace in between, the common case,
    instead of reading every watched value again. The view is a ``ctypes.c_uint64`` placed at
    the field's offset in the dict's header (after the refcount, type and size), made once per
    dict and holding a reference to it: reading ``.value`` is an attribute access, where a
    ``ctypes.string_at`` call per read cost ~7 us on real cells (cold caches). Used only after
    a probe showed that the field behaves so; otherwise (PyPy, 3.14+) every cell takes its own
    snapshot.
    """
    try:
        if sys.implementation.name != "cpython" or not (3, 6) <= sys.version_info[:2] < (3, 14):
            return None
        import ctypes

        offset = 2 * struct.calcsize("P") + struct.calcsize("n")
        if dict.__basicsize__ < offset + 8:
            return None
        cell_at = ctypes.c_uint64.from_address

        def tag(d: dict[Any, Any]) -> Any:
            view = cell_at(id(d) + offset)
            view.dict = d  # type: ignore[attr-defined]  # the address stays valid while it lives
            return view

        probe: dict[str, Any] = {}
        other: dict[str, Any] = {}
        view = tag(probe)
        tags = [view.value]
        for change in (
            lambda: probe.__setitem__("a", object()),
            lambda: probe.__setitem__("a", object()),  # rebinding, same size
            lambda: probe.pop("a"),
            lambda: probe.__setitem__("b", 1),
        ):
            change()
            tags.append(view.value)
        still = view.value
        other["x"] = 1  # another dict's change leaves this tag alone
        if len(set(tags)) != len(tags) or view.value != still or tags[-1] != still:
            return None
        if tag(probe).value != still:  # a second view reads the same field
            return None
        return tag
    except Exception:
        return None


dict_tag: Any = dict_tag_factory()


class Unchanged:
    """Whether a namespace is unchanged since the last snapshot of it, by its version tag
    (``dict_tag``): ``now(ns)`` before a snapshot, ``taken(tag)`` after it. Without tags,
    never."""

    __slots__ = ("_at", "_view")

    def __init__(self) -> None:
        self._view: Any = None  # dict_tag of the namespace (.dict)
        self._at: int | None = None  # its tag when the last snapshot was taken

    def now(self, ns: dict[str, Any]) -> int | None:
        view = self._view
        if view is None or view.dict is not ns:
            if dict_tag is None:
                return None
            view = self._view = dict_tag(ns)
        return view.value  # type: ignore[no-any-return]

    def since(self, tag: int | None) -> bool:
        """``tag`` (from ``now``) is the one the last snapshot was taken at."""
        return tag is not None and tag == self._at

    def taken(self, tag: int | None) -> None:
        # Read before and after the snapshot: a change made meanwhile (a thread) leaves no tag.
        self._at = tag if tag is not None and self._view.value == tag else None


def _mismatches(a: bytes, b: bytes, n: int, w: int = _ID_WIDTH, lo: int = 0) -> list[int]:
    """Indices ``lo <= i < n`` whose ``w``-byte items differ between the arrays ``a`` and ``b``
    (packed ids here, dict entries in ``tables``; ``b`` may be longer).

    A cell rebinds a few names out of hundreds, so this finds each difference by a binary
    search for the longest equal prefix: ``startswith`` compares in place (memcmp), ~log2(n)
    steps per difference instead of a step per item.
    """
    out: list[int] = []
    view = memoryview(a)  # slices of a view: no copies
    while lo < n and not b.startswith(view[lo * w : n * w], lo * w):
        first, last = lo, n  # a and b agree on [lo, first); they differ in [first, last)
        while last - first > 1:
            mid = (first + last) // 2
            if b.startswith(view[first * w : mid * w], first * w):
                first = mid
            else:
                last = mid
        out.append(first)
        lo = first + 1
    return out


# (epoch, watched names, how many of them this snapshot covers, their values' ids packed)
Snapshot = tuple[int, list[str], int, bytes]
EMPTY: Snapshot = (-1, [], 0, b"")
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


class Watch:
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
        self._last: Snapshot | None = None  # the last snapshot, with the namespace's tag
        self._unchanged = Unchanged()
        # holding(): the names bound to values of other types than ``_kinds_of``, as of the
        # snapshot ``_kinds_at``
        self._kinds_of: frozenset[type] | None = None
        self._kinds_at: Snapshot = EMPTY
        self._holding: set[str] = set()

    def _rebuild(self, ns: dict[str, Any]) -> None:
        keys = list(ns)
        self.epoch += 1
        self.watched = [k for k in keys if not is_owned_name(k)]
        self._get = _getter(self.watched)
        self._fixed = [k for k in keys if k in OWNED_NAMES]
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
        added = [name for name in new if not is_owned_name(name)]
        if added:
            self.watched.extend(added)
            self._get = _getter(self.watched)
        fixed = [name for name in new if name in OWNED_NAMES]
        if fixed:
            self._fixed = self._fixed + fixed
            self._present = _getter(self._fixed)
        return True

    def snapshot(self, ns: dict[str, Any], reuse: bool = False) -> Snapshot:
        """``reuse``: return the last snapshot if the namespace has not changed since."""
        tag = self._unchanged.now(ns)
        if reuse and ns is self._ns and self._unchanged.since(tag):
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
        self._unchanged.taken(tag)
        return snapshot

    def diff(self, before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
        """(names bound or rebound, names deleted) between two snapshots (``diff``)."""
        return diff(before, after)

    def bound_to(self, ns: dict[str, Any], ids: set[int]) -> list[str]:
        """Watched names of ``ns`` bound now to one of the objects whose ``id`` is in ``ids``.

        Read from the packed ids of a current snapshot (the last one while the namespace's
        tag says nothing changed since): no value is touched."""
        _, watched, n, packed = self.snapshot(ns, True)
        if len(ids) > 16:
            values = struct.unpack(f"{n}{_ID_FORMAT}", packed)
            return list(compress(watched[:n], map(ids.__contains__, values)))
        # A few objects (the usual case): search the bytes, no int made per name.
        found = []
        for address in ids:
            needle = struct.pack(_ID_FORMAT, address)
            at = packed.find(needle)
            while at != -1:
                if at % _ID_WIDTH == 0:
                    found.append(watched[at // _ID_WIDTH])
                at = packed.find(needle, at + 1)
        return found

    def holding(self, ns: dict[str, Any], kinds: frozenset[type]) -> set[str]:
        """Watched names of ``ns`` bound now to a value whose type is not in ``kinds`` (the
        containers worth scanning for an alias). Do not change the returned set.

        Kept from call to call: only the names that a diff of snapshots shows rebound since
        are looked at again, so a cell costs a look at what it bound, not at every value (on
        real cells every value is a likely cache miss). A name still bound to the same object
        keeps its type: the one exception, assigning ``__class__``, cannot turn a type of
        ``kinds`` (atoms, functions, classes) into another, except a module's into a module
        subclass."""
        now = self.snapshot(ns, True)
        if kinds is not self._kinds_of or now[0] != self._kinds_at[0]:
            values = self._get(ns)
            keep = map(operator.not_, map(kinds.__contains__, map(type, values)))
            self._holding = set(compress(self.watched, keep))
            self._kinds_of = kinds
        else:
            changed, gone = diff(self._kinds_at, now)
            holding = self._holding
            holding.difference_update(gone)
            for name in changed:  # bound now: diff() only lists names present in ``now``
                if type(ns[name]) in kinds:
                    holding.discard(name)
                else:
                    holding.add(name)
        self._kinds_at = now
        return self._holding


def diff(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
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
