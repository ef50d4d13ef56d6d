"""Which live objects an execution changed in place: bounded fingerprints, before and after.

The namespace diff (``snapshots``) sees names bound to new objects; it cannot see
``items.append(1)``, a closure's counter advancing on a bare call, a default argument
growing, or ``np.add(a, b, out=c)``. So before a cell runs the tracker fingerprints its
*candidates*: the live names the cell's source mentions, plus the globals (and the closures'
and defaults' objects) of the notebook functions those reach; after it runs it fingerprints
them again. A name still bound to the same object whose fingerprint differs was **mutated**;
other names holding that object (or a container holding it) are charged too. A name whose
fingerprint covered everything reachable (no sampling, no cut-off) and stayed equal is
**unchanged**: the planner may trust that over a static guess. Anything not covered is in
neither list, so the planner keeps its static view of it.

An address can be reused: an object freed during the cell (``acc += 1`` in a loop, a counter in
a dict bumped twice) may leave its successor at its own address. So values that cannot change in
place count by identity *and* by value (type and hash, ``_value_key``): a name or an element
whose address came back with another value changed.

Fingerprints are hashes of element identities, atoms' values and buffer checksums, never the
values themselves, and are bounded: containers by ``MAX_ELEMENTS`` elements, ``DEPTH`` levels
of nesting (plain containers in plain containers: ``NESTING``), ``MAX_OBJECTS`` objects and
``BUDGET_S`` seconds per execution, and buffers by the bytes a pass reads. State in C fields is
read where Python shows it: builtin iterators' positions (``__reduce__``), generators' frames
and read-only files' positions (both never exact), random generators' states. Modules and
library classes and functions are not walked, hence never exact.

Hashing is the dear part (~4 GB/s): a cell that reads a 36 MB frame in 1 ms would otherwise pay
2 x 9 ms. A buffer is hashed whole while the pass's ``HASH_BYTES`` last, else sampled
(``SAMPLE_CHUNKS`` chunks spread over it) while its ``SAMPLED_BYTES`` last, else known by its
layout only; what was not hashed whole is never "unchanged". The pass after
the cell follows the pass before's plan for each buffer, so that the two compare alike, and the
pass before reuses the checksums that the previous execution's pass after took of the same
buffers (``whole``): a buffer changed *between* executions (a widget callback, a thread) then
counts for the next one, as the environment does (``touches``).

Large containers of atoms (a list of numbers a cell appends to, a dict of settings) cost a pass
over every element, their types and values, which a cell reading a few names does not otherwise
pay. Their element identities are hashed from memory in one copy (``tables.identities``), and
the pass before looks the rest up by those identities in ``known``: what a pass found for the
same elements at the same positions (atoms never change in place). Only a pass before looks up:
the pass after always reads the values, since during the cell an element may be replaced by an
equal-looking atom at a freed address. An entry found stale (an element replaced by code no cell
ran, at the very address it had) can only show a change the cell did not make: re-run, never
skipped.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import fractions
import functools
import io
import itertools
import operator
import os
import random
import re
import struct
import sys
import time
import types
import weakref
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from itertools import compress, filterfalse
from typing import Any

from . import handles
from .tables import identities
from .touches import user_file

MAX_CANDIDATES = 200
MAX_SOURCE = 200_000  # characters of a cell scanned for names
ASSIGNED_SCAN = 20_000  # larger cells: names only assigned to are fingerprinted all the same
MAX_ELEMENTS = 100_000  # element ids read from one container
# From this many elements on, a list's or dict's element ids are read from its memory in one
# copy (``tables.identities``); below, one by one is cheaper with the caches cold.
READ_FROM = 256
HASH_BYTES = 16 * 1024 * 1024  # per pass: buffers hashed whole while these last
SAMPLED_BYTES = 4 * 1024 * 1024  # per pass: then sampled while these last
SAMPLE_CHUNKS = 64
SAMPLE_BYTES = 16 * 1024  # per chunk at most; never more than a quarter of the buffer in all
_WHOLE = 0  # a buffer's plan: hashed whole; else the chunks' size (None: layout only)
_MISSING = object()
MAX_OBJECTS = 50_000
DEPTH = 4
# Plain containers nested in plain containers (a JSON-like configuration) are walked past DEPTH,
# down to this many objects on the walk's stack.
NESTING = 32
BUDGET_S = 0.2  # per pass (before, after)
ALIAS_SCAN = 10_000  # elements of a container looked at when charging aliases
HOLD_DEPTH = 3  # levels of nested containers looked into for a changed object
CALLABLES_SCAN = 64  # containers up to this size are looked into for notebook functions
KNOWN_CONTAINERS = 64  # atom-only containers whose element fingerprints ``known`` keeps

_IDENT = re.compile(r"[^\W\d]\w*")
_ASSIGNED = re.compile(r"^[ \t]*([^\W\d]\w*)[ \t]*=(?!=)", re.MULTILINE)  # `name = ...` lines
# The same for ASCII text (most cells: ``str.isascii`` is a flag, no scan): classes read from the
# pattern's own bitmap instead of the Unicode database, which costs cache misses on every cell.
_IDENT_ASCII = re.compile(_IDENT.pattern, re.ASCII)
_ASSIGNED_ASCII = re.compile(_ASSIGNED.pattern, re.MULTILINE | re.ASCII)
# Object identity without ``id()``: ``id`` raises an audit event (PEP 578), so in a kernel with
# any audit hook installed (debuggers, sandboxes) every call would run Python code. The default
# hash is a function of the address alone, one-to-one among live objects, and not audited.
_ident = object.__hash__
# Values that cannot change in place (a tuple or frozenset of them neither).
ATOMS: frozenset[type] = frozenset(
    {int, float, complex, str, bytes, bool, type(None), range, slice, type(Ellipsis),
     decimal.Decimal, fractions.Fraction, datetime.date, datetime.datetime, datetime.time,
     datetime.timedelta, datetime.timezone, types.BuiltinFunctionType, types.ModuleType,
     types.MethodDescriptorType, types.WrapperDescriptorType}
)  # fmt: skip
_SEQUENCES = (list, deque)
# What a class body defines besides data: code and descriptors (``_Pass._shared``).
_CLASS_CODE: frozenset[type] = frozenset(
    {types.FunctionType, property, classmethod, staticmethod, types.MemberDescriptorType,
     types.GetSetDescriptorType}
)  # fmt: skip
_NESTED: frozenset[type] = frozenset({dict, list, tuple})


def _iterator_types() -> frozenset[type]:
    """Iterators whose ``__reduce__`` gives their position and the live object they walk
    (not a copy of what is left, as a dict's or a set's iterator gives). itertools' objects
    warn when reduced from Python 3.12 on (and cannot be from 3.14): older ones only, but for
    ``count``, read by its ``repr`` on every version (``_COUNT``)."""
    walked: tuple[Any, ...] = (range(0), range(1 << 70), [], (), "", "\u00e9", b"", bytearray())
    found: set[type] = {type(iter(x)) for x in walked}
    found |= {enumerate, zip, map, filter, reversed, type(reversed([])), type(iter(int, 0))}
    if sys.version_info < (3, 12):
        import itertools as it

        samples = (
            it.repeat(1), it.cycle("ab"), it.islice("ab", 1), it.chain("a", "b"),
            it.accumulate([1]), it.takewhile(bool, [1]), it.dropwhile(str.isspace, "a"),
            it.compress("a", [1]), it.starmap(pow, [(2, 1)]), it.product("a"),
            it.permutations("a"), it.combinations("a", 1), it.zip_longest("a"), it.groupby("a"),
        )  # fmt: skip
        for sample in samples:
            with contextlib.suppress(Exception):  # an advanced one too: its position shows
                next(sample)
                sample.__reduce__()
                found.add(type(sample))
    return frozenset(found)


_ITERATORS = _iterator_types()
# ``repr`` gives its next value and step, on every version: the id counters notebooks keep.
_COUNT = itertools.count
# Open files (concrete classes: an isinstance of the io.IOBase ABC costs more, on every object)
_FILES = (io.TextIOWrapper, io.BufferedReader, io.BufferedRandom, io.BufferedWriter, io.FileIO)
# In-memory files: their contents are C fields, written by whatever code is handed them
# (``print(x, file=buf)``, ``np.save(buf, a)``, ``df.to_csv(buf)``).
_MEMORY_FILES = (io.StringIO, io.BytesIO)
_CELL_MODULE = "__main__"


class _Pass:
    """One fingerprinting pass over the candidates of one execution, sharing a budget.

    ``before``: the pass before the execution, whose decisions (whole or sampled) this one
    follows; ``reuse``: checksums of buffers hashed whole by the previous execution's pass after
    (for a pass before); ``known``: element fingerprints of large atom-only containers by their
    identities (see the module's docstring), looked up by a pass before, filled by both."""

    def __init__(
        self,
        before: _Pass | None = None,
        reuse: dict[Any, Any] | None = None,
        known: dict[Any, Any] | None = None,
    ) -> None:
        self.deadline = time.perf_counter() + BUDGET_S
        # Where the walk stopped (objects counted), if it did. The pass after stops at the same
        # object rather than on time, or a pass cut short by time would look like a change.
        self.cut: int | None = None
        self._limit = MAX_OBJECTS if before is None or before.cut is None else before.cut - 1
        self._timed = before is None
        self.objects = 0
        self.exact = True  # for the fingerprint being computed
        self.memo: dict[int, tuple[Any, bool]] = {}  # identity -> (fingerprint, exact)
        self._active: set[int] = set()
        self.hash_left = HASH_BYTES
        self.sample_left = SAMPLED_BYTES
        self.plans: dict[Any, int | None] = {}  # buffer key -> its plan (``_WHOLE``, ...)
        self.checksums: dict[Any, Any] = {}  # buffer key -> its checksum, if hashed whole
        self._decided = None if before is None else before.plans
        self._reuse = reuse or {}
        self._known: dict[Any, Any] | None = known if before is None else before._known
        self._classes: dict[int, tuple[Any, bool]] = {}  # ``_class_data``, by class

    def _plan(self, key: Any, n: int) -> int | None:
        """How the buffer ``key`` (``n`` bytes) is read: as the pass before decided, else by
        this pass's budgets (a reused checksum counts against them too, so that the pass after
        never reads more than twice its budgets)."""
        plans = self._decided
        if plans is not None and key in plans:
            plan = plans[key]
        elif n <= self.hash_left:
            self.hash_left -= n
            plan = _WHOLE
        else:
            size = min(SAMPLE_BYTES, n // (4 * SAMPLE_CHUNKS))
            if size * (SAMPLE_CHUNKS + 1) > self.sample_left:
                size = self.sample_left // (SAMPLE_CHUNKS + 1)
            plan = size if size >= 64 else None
            if plan is not None:
                self.sample_left -= size * (SAMPLE_CHUNKS + 1)
        self.plans[key] = plan
        return plan

    def of(self, value: Any) -> tuple[Any, bool]:
        """(fingerprint, exact) of one candidate's value."""
        self.exact = True
        fp = self._fp(value, DEPTH)
        return fp, self.exact

    def _over(self) -> bool:
        self.objects += 1
        if self.cut is not None:
            return True
        if self.objects > self._limit or (
            self._timed and self.objects % 256 == 0 and time.perf_counter() > self.deadline
        ):
            self.cut = self.objects
            return True
        return False

    def _fp(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t in ATOMS and (t not in _HOLDERS or _atom(v, t)):
            return 0
        key = _ident(v)
        memo = self.memo.get(key)
        if memo is not None:
            self.exact = self.exact and memo[1]
            return memo[0]
        if key in self._active:
            return ("cycle", key)
        if depth <= 0:
            if t not in _NESTED or len(self._active) >= NESTING:
                self.exact = False
                return ("id", key)
            depth = 1  # its own elements: atoms, or more plain containers
        if self._over():
            self.exact = False
            return ("id", key)
        outer = self.exact
        self.exact = True
        self._active.add(key)
        try:
            fp = self._dispatch(v, t, depth)
        except Exception:  # an object whose attributes raise: identity only
            fp = ("id", key)
            self.exact = False
        finally:
            self._active.discard(key)
        self.memo[key] = (fp, self.exact)
        self.exact = outer and self.exact
        return fp

    def _dispatch(self, v: Any, t: type, depth: int) -> Any:
        if t is types.ModuleType:  # one of the user's (``_atom``): by its globals, never exact
            self.exact = False
            globals_ = {k: x for k, x in vars(v).items() if k[:2] != "__"}
            return ("module", self._fp(globals_, depth - 1))
        if t is types.BuiltinMethodType or t is types.MethodWrapperType:
            # bound to an object (``_atom``; ``it.__next__``: a slot's wrapper): by that object
            return ("builtin method", v.__name__, self._fp(v.__self__, depth - 1))
        if t is tuple or t is frozenset:
            return (t.__name__, self._elements(v, depth))
        if isinstance(v, tuple):  # a named tuple: its elements, and attributes if any
            extra = getattr(v, "__dict__", None)
            return ("tuple", self._elements(v, depth), self._fp(extra, depth - 1) if extra else 0)
        if isinstance(v, dict):
            ids = identities(v) if READ_FROM <= len(v) <= MAX_ELEMENTS else None  # keys, values
            if ids is None:
                keys, values = self._elements(v.keys(), depth), self._elements(v.values(), depth)
            else:
                keys = self._elements(v.keys(), depth, 0, ("keys", ids, len(v)))
                values = self._elements(v.values(), depth, 0, ("values", ids, len(v)))
            fp: tuple[Any, ...] = ("dict", len(v), ids, keys, values)
            if isinstance(v, defaultdict):  # its factory is a C field
                fp += (self._elements((v.default_factory,), depth),)
            extra = getattr(v, "__dict__", None)  # a subclass' own attributes
            return (*fp, self._fp(extra, depth - 1)) if extra else fp
        if isinstance(v, _SEQUENCES):
            ids = identities(v) if READ_FROM <= len(v) <= MAX_ELEMENTS else None
            known_as = None if ids is None else ("items", ids, len(v))
            return (t.__name__, len(v), self._elements(v, depth, ids, known_as))
        if isinstance(v, (set, frozenset)):
            return ("set", len(v), hash(frozenset(map(_ident, v))), self._elements(v, depth))
        if isinstance(v, (bytearray, memoryview)) or t.__module__ == "array":
            data = memoryview(v).cast("B")
            return ("buffer", self._checksum(data, ("buffer", _ident(v), data.nbytes)))
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            if isinstance(v, numpy.ndarray):
                fp = self._ndarray(v, numpy, depth)
                extra = getattr(v, "__dict__", None)  # a subclass' (a masked array's mask)
                return (*fp, self._fp(extra, depth - 1)) if extra else fp
            if isinstance(v, numpy.dtype):  # a C object, immutable but for its field names
                return ("dtype", v.str, v.names)
            state = _generator_state(v, sys.modules.get("numpy.random"))
            if state is not _MISSING:
                return ("rng", _state_key(state))
        pandas = sys.modules.get("pandas")
        if pandas is not None:
            if isinstance(v, (pandas.DataFrame, pandas.Series)):
                return self._frame(v, pandas, depth)
            backed = getattr(sys.modules.get("pandas._libs.arrays"), "NDArrayBacked", None)
            if backed is not None and isinstance(v, backed):
                return self._backed(v, t, depth)
        if isinstance(v, random.Random):  # the generator's state is C-level: read it
            return ("rng", _state_key(v.getstate()), self._object(v, t, depth, seen=True))
        if t is types.FunctionType:
            return self._function(v, depth)
        if t is types.MethodType:
            return ("method", _ident(v.__func__), self._fp(v.__self__, depth - 1))
        if isinstance(v, type):
            if v.__module__ != _CELL_MODULE:
                self.exact = False  # a library's class: not walked, so never "unchanged"
                return 0
            return ("class", self._fp(dict(vars(v)), depth - 1))
        if t.__name__ == "_lru_cache_wrapper":
            return ("cache", v.cache_info().currsize, self._fp(v.__wrapped__, depth - 1))
        if t is functools.partial:  # a C object: its function, arguments and attributes
            own = (v.func, v.keywords, getattr(v, "__dict__", None))
            return ("partial", self._elements(v.args, depth), self._elements(own, depth))
        if t is _COUNT:
            return ("count", repr(v))
        if t in _ITERATORS:
            # Its position is a C field; ``__reduce__`` gives it by value, with the live
            # sequence it walks (a new tuple each time: read by value, never by identity).
            return ("iterator", self._reduced(v.__reduce__(), depth))
        if t is types.GeneratorType:
            return self._generator(v, depth)
        if isinstance(v, _FILES):
            return self._stream(v)
        if isinstance(v, _MEMORY_FILES):
            return self._memory_file(v, t, depth)
        return self._object(v, t, depth)

    def _reduced(self, x: Any, depth: int) -> Any:
        """A ``__reduce__`` result by value: its tuples element by element, atoms by value,
        anything else (live objects it holds) as fingerprinted."""
        kind = type(x)
        if kind is tuple:
            return tuple(self._reduced(e, depth) for e in x)
        if kind in ATOMS:
            return _value_key(x)
        if kind is list and not x:  # an exhausted iterator says so with a new empty list
            return ("list", 0)
        return self._fp(x, depth - 1)

    def _generator(self, v: Any, depth: int) -> Any:
        """A suspended generator by where it stands, its locals and what it delegates to. Never
        exact: a ``for`` loop's iterator lives on the frame's stack, out of sight, so an advance
        can leave all of these equal; a difference is a change all the same."""
        self.exact = False
        frame = v.gi_frame
        if frame is None:
            return ("generator", None)
        local = tuple((k, self._reduced(x, depth)) for k, x in frame.f_locals.items())
        return ("generator", frame.f_lasti, local, self._fp(v.gi_yieldfrom, depth - 1))

    def _stream(self, v: Any) -> Any:
        """An open file by its position (read-only files only: ``tell`` flushes what a writable
        one buffered). Never exact: its buffers and decoder are out of sight."""
        self.exact = False
        if v.closed:
            return ("stream", None)
        try:
            if not v.writable():
                if v.readable() and v.seekable():
                    return ("stream", v.tell())
            else:  # what is written through it later is written to its file (``handles``)
                handles.watch(v)
        except Exception:  # iterated by a ``for`` loop (no tell), detached, not a real file
            pass
        return ("stream", _ident(v))

    def _memory_file(self, v: Any, t: type, depth: int) -> Any:
        """An in-memory file by its contents and position, and its own attributes: exact
        (text past ``HASH_BYTES`` characters: its length only, inexact)."""
        own = self._object(v, t, depth, seen=True)  # a subclass' attributes
        if v.closed:
            return ("memory file", None, own)
        if isinstance(v, io.BytesIO):
            with v.getbuffer() as data:
                key = ("memory file", _ident(v), data.nbytes)
                return ("memory file", v.tell(), self._checksum(data, key), own)
        text = v.getvalue()
        if len(text) > HASH_BYTES:
            self.exact = False
            return ("memory file", v.tell(), len(text), own)
        return ("memory file", v.tell(), hash(text), own)

    def _ids(self, values: Any) -> tuple[int, Any]:
        """Hash of the element identities and the elements it covers: past MAX_ELEMENTS a
        sample (inexact)."""
        if len(values) > MAX_ELEMENTS:
            self.exact = False
            step = len(values) // MAX_ELEMENTS + 1
            values = list(values)[::step]
        return hash(tuple(map(_ident, values))), values

    def _elements(
        self, values: Any, depth: int, ids: int | None = None, known_as: Any = None
    ) -> Any:
        """Identities of the elements (``ids``: already hashed, from the container's memory,
        where ``known_as`` keys them in ``known``), the values of those that cannot change in
        place, and fingerprints of the others."""
        if ids is None or len(values) > MAX_ELEMENTS:
            ids, values = self._ids(values)
            known_as = None
        known = self._known if known_as is not None else None
        if known is not None and self._decided is None:  # a pass before
            found = known.get(known_as)
            if found is not None:
                return found
        types = tuple(map(type, values))
        if ATOMS.issuperset(types) and _HOLDERS.isdisjoint(types):
            fp = (ids, self._values(tuple(values), types))
            if known is not None and fp[1] is not None:
                if len(known) >= KNOWN_CONTAINERS:
                    del known[next(iter(known))]  # the oldest
                known[known_as] = fp
            return fp
        # (a builtin method bound to an object, a user's module: by what they hold, ``_atom``)
        flags = [t in ATOMS and (t not in _HOLDERS or _atom(x, t)) for x, t in zip(values, types)]  # noqa: B905
        atoms = tuple(compress(values, flags))
        inner = []
        for x, atom in zip(values, flags):  # noqa: B905
            if not atom:
                inner.append(self._fp(x, depth - 1))
                if self.cut is not None:
                    self.exact = False
                    break
        return (ids, self._values(atoms, tuple(map(type, atoms))), tuple(inner))

    def _values(self, atoms: tuple[Any, ...], types: tuple[type, ...]) -> Any:
        """Hash of atoms' types and values (their identities alone miss a reused address)."""
        try:
            return hash((atoms, types))
        except Exception:  # an unhashable atom (a slice before 3.12, a signaling NaN)
            self.exact = False
            return None

    def _checksum(self, data: memoryview, key: Any, plan: Any = _MISSING) -> Any:
        """Checksum of ``data``, the buffer ``key``, read as ``plan`` says (by default as
        ``_plan`` decides)."""
        n = data.nbytes
        if plan is _MISSING:
            plan = self._plan(key, n)
        if plan == _WHOLE:
            done = self._reuse.get(key)
            checksum = done if done is not None else (n, zlib.crc32(data))
            self.checksums[key] = checksum
            return checksum
        self.exact = False
        if plan is None:
            return (n,)
        step = n // SAMPLE_CHUNKS
        crc = 0
        for i in range(SAMPLE_CHUNKS):
            crc = zlib.crc32(data[i * step : i * step + plan], crc)
        return (n, crc, zlib.crc32(data[n - plan :]))

    def _ndarray(self, v: Any, numpy: Any, depth: int) -> Any:
        # "data": (address, read-only): ``a.flags.writeable = False`` is a change too
        meta = (v.__array_interface__["data"], v.shape, v.strides, v.dtype.str)
        if v.dtype.hasobject:
            flat = v.ravel()
            if flat.size > MAX_ELEMENTS:  # sampled before it becomes a list
                self.exact = False
                flat = flat[:: flat.size // MAX_ELEMENTS + 1]
            return ("ndarray", meta, self._elements(flat.tolist(), depth))
        # The array object and its buffer: a reused checksum needs both to be the same ones.
        key = ("ndarray", _ident(v), meta)
        plan = self._plan(key, v.nbytes)
        if v.flags.c_contiguous:
            flat = v.reshape(-1)
        elif v.flags.f_contiguous:
            flat = v.T.reshape(-1)
        elif plan == _WHOLE:
            flat = numpy.ascontiguousarray(v).reshape(-1)
        else:  # strided and large: a copy would cost more than the cell
            self.exact = False
            return ("ndarray", meta)
        return ("ndarray", meta, self._checksum(memoryview(flat.view(numpy.uint8)), key, plan))

    def _frame(self, v: Any, pandas: Any, depth: int) -> Any:
        mgr = getattr(v, "_mgr", None)
        arrays = getattr(mgr, "arrays", None)
        axes = getattr(mgr, "axes", None)
        if arrays is None or axes is None:
            self.exact = False
            return ("frame", _ident(mgr))
        names = tuple(tuple(map(_ident, a.names)) for a in axes)
        parts = tuple(self._fp(a, depth - 1) for a in arrays)
        attrs = self._fp(v.attrs, depth - 1)
        # A series' name and the flags live on the object, not in its manager.
        own = self._elements((getattr(v, "_name", None), v.flags.allows_duplicate_labels), depth)
        return ("frame", _ident(mgr), tuple(map(_ident, axes)), names, parts, attrs, own)

    def _function(self, v: Any, depth: int) -> Any:
        if v.__module__ != _CELL_MODULE:
            self.exact = False  # a library's function: not walked, so never "unchanged"
            return 0
        cells = []
        for cell in v.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # empty cell
                cells.append(None)
        return (
            "function",
            _ident(v.__code__),
            self._fp(v.__defaults__, depth - 1),
            self._fp(v.__kwdefaults__, depth - 1),
            self._elements(cells, depth),
            self._fp(v.__dict__, depth - 1),
        )

    def _object(self, v: Any, t: type, depth: int, seen: bool = False) -> Any:
        """An instance by its ``__dict__`` and slots; exact only if they hold all its state
        (``seen``: the caller covered the C fields of its type)."""
        if t is object:
            return ("object",)  # a bare marker: no state
        attrs = getattr(v, "__dict__", None)
        names, hidden = _layout(t)
        slots = [getattr(v, s, None) for s in names]
        if attrs is None and not slots:
            self.exact = False  # a C object: its state is out of sight
            if _advances(t):
                # An iterator whose position cannot be read (itertools' from Python 3.12 on,
                # a dict's): any execution that reaches it may have advanced it.
                return ("iterator", _ident(v), _ident(self))
            return ("id", _ident(v))
        if hidden and not seen:
            self.exact = False  # changes there are not seen: never "unchanged"
        own = ("object", self._fp(attrs, depth - 1), self._fp(tuple(slots), depth - 1))
        if t.__module__ == _CELL_MODULE:
            return (*own, self._shared(t, depth - 1))
        return own

    def _shared(self, t: type, depth: int) -> Any:
        """The data attributes of a notebook class and of its notebook bases (``tags = []``),
        which every instance shares (``self.tags.append`` changes them all); not their
        functions and descriptors. Each class once per pass, however many instances, and
        under its own identity: a change there charges the class that holds the data."""
        return tuple(self._class_data(c, depth) for c in t.__mro__ if c.__module__ == _CELL_MODULE)

    def _class_data(self, c: type, depth: int) -> Any:
        found = self._classes.get(_ident(c))
        if found is None:
            # keyed by the class dict's own strings: the same objects every pass
            data = {
                k: x for k, x in vars(c).items() if k[:2] != "__" and type(x) not in _CLASS_CODE
            }
            outer, self.exact = self.exact, True
            fp = self._fp(data, depth) if data else 0
            found = self._classes[_ident(c)] = (fp, self.exact)
            self.exact = outer
        self.exact = self.exact and found[1]
        return found[0]

    def _backed(self, v: Any, t: type, depth: int) -> Any:
        """A pandas array that keeps its values in C fields (``NDArrayBacked``: string,
        categorical and datetime columns), which neither ``__dict__`` nor slots show."""
        data, dtype = self._fp(v._ndarray, depth - 1), self._fp(v._dtype, depth - 1)
        return ("backed", data, dtype, self._object(v, t, depth, seen=True))


def _generator_state(v: Any, rnd: Any) -> Any:
    """A numpy random generator's state (``_MISSING`` if ``v`` is none): drawing from a seeded
    generator changes what every later draw gives, and the state is not in ``__dict__``."""
    if rnd is None:
        return _MISSING
    if isinstance(v, rnd.Generator):
        return v.bit_generator.state
    if isinstance(v, rnd.RandomState):
        return v.get_state(legacy=False)
    if isinstance(v, rnd.BitGenerator):
        return v.state
    return _MISSING


def _state_key(state: Any) -> Any:
    """A generator's state by value: it is built anew at each reading, so the identities of
    its parts mean nothing."""
    if isinstance(state, dict):
        return tuple((k, _state_key(x)) for k, x in sorted(state.items()))
    if isinstance(state, (list, tuple)):
        if ATOMS.issuperset(map(type, state)):  # the Mersenne Twister's 625 ints: as they are
            return tuple(state)
        return tuple(map(_state_key, state))
    tobytes = getattr(state, "tobytes", None)
    if tobytes is not None:  # a numpy array (a Mersenne Twister's key)
        return ("array", zlib.crc32(tobytes()))
    return state


_LAYOUTS: weakref.WeakKeyDictionary[type, tuple[tuple[str, ...], bool]] = (
    weakref.WeakKeyDictionary()
)


def _layout(t: type) -> tuple[tuple[str, ...], bool]:
    """The attribute names of an instance's ``__slots__`` (private ones mangled), and whether
    its type keeps more state than they and ``__dict__`` show: C fields of a C or Cython base
    class (a pandas string array's values), found as a larger instance size than a plain
    class with as many slots would have. Weakly cached per type."""
    known = _LAYOUTS.get(t)
    if known is not None:
        return known
    names: list[str] = []
    for c in t.__mro__:
        own = c.__dict__.get("__slots__", ())
        for slot in (own,) if isinstance(own, str) else own:
            if not isinstance(slot, str) or slot in ("__dict__", "__weakref__"):
                continue
            if slot.startswith("__") and not slot.endswith("__"):
                slot = f"_{c.__name__.lstrip('_')}{slot}"
            names.append(slot)
    hidden = t.__itemsize__ > 0 or _payload(t) > _payload(_plain(len(names)))
    layout = (tuple(dict.fromkeys(names)), hidden)
    with contextlib.suppress(TypeError):  # a type that takes no weak reference: not cached
        _LAYOUTS[t] = layout
    return layout


def _payload(t: type) -> int:
    """Instance size without the dict and weakref pointers kept in the instance (C types keep
    them there; Python classes may keep the dict before the instance)."""
    inline = (t.__dictoffset__ > 0) + (t.__weakrefoffset__ > 0)
    return int(t.__basicsize__) - inline * struct.calcsize("P")


@functools.cache
def _plain(slots: int) -> type:
    """A plain class with ``slots`` slots, to compare instance sizes with."""
    return type("_Plain", (), {"__slots__": tuple(f"s{i}" for i in range(slots))})


def _code_names(code: types.CodeType, out: set[str]) -> None:
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_names(const, out)


def candidates(source: str, ns: dict[str, Any], is_user: Callable[[str], bool]) -> list[str]:
    """The user names an execution of ``source`` may change in place, at most MAX_CANDIDATES.

    Names the source mentions, and, following notebook functions (and the classes of notebook
    instances, bound methods, and the functions in small lists, tuples and dicts: callbacks,
    dispatch tables) through the globals their code names, the globals they may reach. A name the
    source mentions only as the target of plain assignments (``df = load()``) is left out: such
    a line rebinds it, which the namespace diff sees, and can change nothing in place (its old
    object is still a candidate through any other name that reaches it). Re-running a cell that
    rebinds a large frame then costs no fingerprint of the frame it replaces. (When every name
    mentioned holds an atom, none is left out: atoms cost no fingerprint.)
    """
    text = source[:MAX_SOURCE]
    ascii_only = text.isascii()
    mentioned = ns.keys() & (_IDENT_ASCII if ascii_only else _IDENT).findall(text)
    if all(map(ATOMS.__contains__, map(type, map(ns.__getitem__, mentioned)))):
        # Atoms only (most cells): they reach nothing further and cost no fingerprint, so
        # one only assigned to stays (the scan for assignments would cost more than it).
        return [n for n in mentioned if is_user(n)][:MAX_CANDIDATES]
    if "=" in text and len(text) <= ASSIGNED_SCAN:
        assigned = (_ASSIGNED_ASCII if ascii_only else _ASSIGNED).findall(text)
        for name in mentioned.intersection(assigned):
            if text.count(name) == assigned.count(name):  # (count: substrings too, so never less)
                mentioned.discard(name)
    found: dict[str, None] = {}
    todo = [n for n in mentioned if is_user(n)]
    seen_code: set[int] = set()
    while todo and len(found) < MAX_CANDIDATES:
        name = todo.pop()
        if name in found:
            continue
        found[name] = None
        value: Any = ns.get(name)
        kind = type(value)
        if kind in ATOMS and (kind not in _HOLDERS or _atom(value, kind)):
            continue  # reaches nothing (most names a cell mentions)
        codes = _notebook_code(value)
        if (kind is list or kind is tuple or kind is dict) and len(value) <= CALLABLES_SCAN:
            # callbacks and dispatch tables (``ops["f"](x)``): what their functions reach
            for inner in value.values() if kind is dict else value:
                if type(inner) not in ATOMS:
                    codes += _notebook_code(inner)
        for code in codes:
            if _ident(code) in seen_code:
                continue
            seen_code.add(_ident(code))
            names: set[str] = set()
            _code_names(code, names)
            todo += [n for n in names if n not in found and n in ns and is_user(n)]
    return list(found)


def _notebook_code(value: Any, depth: int = 2) -> list[types.CodeType]:
    """The code a call of ``value`` may run in the notebook: a notebook function's, a bound
    method's, a notebook class's methods (for the class or an instance). And the code that using
    ``value`` runs later, out of the source's sight: a notebook generator's when it advances, the
    functions a lazy ``map`` or ``filter`` calls when consumed, a ``defaultdict``'s factory on a
    missing key, a ``functools.partial``'s function (``depth``: how far these nest)."""
    kind = type(value)  # not isinstance: that asks the object for __class__
    if kind is types.MethodType:
        value = value.__func__
        kind = type(value)
    if kind is types.FunctionType:
        module = value.__module__
        if module == _CELL_MODULE or _user_module(sys.modules.get(module)):
            return [value.__code__]
        return []
    if kind is types.GeneratorType:
        frame = value.gi_frame  # None once finished
        notebook = frame is not None and frame.f_globals.get("__name__") == _CELL_MODULE
        return [value.gi_code] if notebook else []
    inner = _deferred_calls(value, kind) if depth > 0 else ()
    if inner:
        return [code for x in inner for code in _notebook_code(x, depth - 1)]
    cls = value if issubclass(kind, type) else kind
    if getattr(cls, "__module__", None) != _CELL_MODULE:
        return []
    return [f.__code__ for f in vars(cls).values() if type(f) is types.FunctionType]


# Atoms' types that may hold state after all (``_atom``).
_HOLDERS = frozenset({types.ModuleType, types.BuiltinMethodType})


def _atom(value: Any, kind: type) -> bool:
    """Whether ``value``, of a type in ATOMS, holds no state: not a module from the user's
    files, nor a builtin method bound to an object (``rot = dq.rotate``: calling it changes
    ``dq``, which no source line names)."""
    if kind is types.ModuleType:
        return not _user_module(value)
    if kind is types.BuiltinMethodType:
        return type(value.__self__) in ATOMS  # a builtin function's is its module (or None)
    return True


# id -> (module, whether it is one of the user's), for every module a pass has met
_USER_MODULES: dict[int, tuple[Any, bool]] = {}


def _user_module(module: Any) -> bool:
    """A module loaded from the user's files (``touches.user_file``: a ``helper.py`` beside the
    notebook, a project package installed for development): its globals are state that its
    functions change (``helper.add(1)`` appending to ``helper.STATE``), so it is walked like an
    object. The standard library's and installed packages' modules are not."""
    if type(module) is not types.ModuleType:
        return False
    found = _USER_MODULES.get(_ident(module))
    if found is not None and found[0] is module:
        return found[1]
    path = vars(module).get("__file__")  # (not getattr: a module's __getattr__ may run code)
    user = isinstance(path, str) and user_file(os.path.abspath(path))
    _USER_MODULES[_ident(module)] = (module, user)
    return user


def _advances(kind: type) -> bool:
    """Whether instances of ``kind`` are iterators (``next`` moves them on)."""
    return getattr(kind, "__next__", None) is not None


def _deferred_calls(value: Any, kind: type) -> tuple[Any, ...]:
    """What ``value`` calls or advances when used later (``_notebook_code``)."""
    if kind is map or kind is filter:
        return value.__reduce__()[1]  # type: ignore[no-any-return]  # (function, *iterables)
    if kind is functools.partial:
        return (value.func,)
    if issubclass(kind, defaultdict):  # (by type: isinstance asks the object)
        return (value.default_factory,)
    return ()


# str and bytes longer than this are not hashed for their value key (a first hash reads them
# whole): such a name is then neither unchanged nor rebound, and the planner keeps its guess.
MAX_HASHED = 1 << 20


def _value_key(value: Any) -> Any:
    """What tells two atoms at the same address apart: type and hash (None: cannot tell)."""
    kind = type(value)
    if (kind is str or kind is bytes) and len(value) > MAX_HASHED:
        return None
    try:
        return (kind, hash(value))
    except Exception:
        return None


class Changes:
    """Before/after fingerprints of one execution's candidates."""

    def __init__(
        self,
        ns: dict[str, Any],
        names: list[str],
        reuse: dict[Any, Any] | None = None,
        known: dict[Any, Any] | None = None,
    ) -> None:
        """``reuse``: the previous execution's ``whole``; ``known``: the tracker's element
        fingerprints of large containers (see the module's docstring)."""
        self.ns = ns
        # Checksums of the buffers hashed whole after the execution (``finish``).
        self.whole: dict[Any, Any] = {}
        self.before: dict[str, tuple[int, Any, bool]] = {}
        # Names bound to values that cannot change in place (most names a small cell reads):
        # unchanged while still bound to the same object, with no fingerprint to take.
        self.atoms: dict[str, tuple[int, Any]] = {}
        self._pass: _Pass | None = None
        # Atoms' names whose address came back with another value (``finish``): rebound.
        self.rebound: list[str] = []
        for name in names:
            if name in ns:
                value = ns[name]
                kind = type(value)
                if kind in ATOMS and (kind not in _HOLDERS or _atom(value, kind)):
                    if kind is not types.ModuleType:  # a module: never "unchanged"
                        self.atoms[name] = (_ident(value), _value_key(value))
                    continue
                if self._pass is None:
                    self._pass = _Pass(reuse=reuse, known=known)
                mark, exact = self._pass.of(value)
                self.before[name] = (_ident(value), mark, exact)

    def finish(
        self, names: Iterable[str] | None, is_user: Callable[[str], bool], watch: Any = None
    ) -> tuple[list[str], list[str]]:
        """(mutated, unchanged) after the execution; ``rebound`` is set too. ``names``: the
        namespace's names that may be the user's (None: ``watch.watched``), ``is_user``
        decides (asked only of names holding a changed object); ``watch``: the namespace's
        ``snapshots.Watch`` or ``tables.TableWatch``, whose snapshots find the holders of a
        changed object without looking at every value."""
        ns = self.ns
        mutated: set[str] = set()
        unchanged: list[str] = []
        self.rebound = []
        for name, (key, value_key) in self.atoms.items():
            value = ns.get(name, _MISSING)
            if _ident(value) != key or value_key is None:
                continue  # rebound (the namespace diff says so), deleted, or cannot tell
            if _value_key(value) == value_key:
                unchanged.append(name)
            else:  # another object at the same address
                self.rebound.append(name)
        if self._pass is None:
            return [], sorted(unchanged)
        fp = _Pass(before=self._pass)
        for name, (key, before, exact) in self.before.items():
            value = ns.get(name, _MISSING)
            if value is _MISSING or _ident(value) != key:
                continue  # rebound or deleted: the namespace diff says so
            after, exact_after = fp.of(value)
            if after != before:
                mutated.add(name)  # (or another object at its address: as safe to re-run)
            elif exact and exact_after:
                unchanged.append(name)
        self.whole = fp.checksums
        if mutated:
            # Every object seen in both passes whose own fingerprint differs, nested ones too
            # (``b.tags`` when ``b = copy.copy(a)``): names holding any of them changed.
            old = self._pass.memo
            changed = {k for k, (mark, _) in fp.memo.items() if k in old and old[k][0] != mark}
            # a notebook class whose own data changed (``_Pass._shared``)
            was = self._pass._classes
            changed |= {k for k, (mark, _) in fp._classes.items() if k in was and was[k][0] != mark}
            changed |= {self.before[n][0] for n in mutated}
            numpy = sys.modules.get("numpy")
            if numpy is not None:  # a changed view changed the arrays it shares memory with
                for name in mutated:
                    changed |= _bases(ns.get(name), numpy)
            if watch is not None and _address is not None:
                mutated |= _watched_holders(ns, watch, changed, is_user)
            else:
                mutated |= _holders(ns, watch.watched if names is None else names, changed, is_user)
        return sorted(mutated), sorted(unchanged)


# Values that hold no references worth scanning for a changed object.
_OPAQUE: frozenset[type] = ATOMS | {types.FunctionType, type, types.MethodType}


def _holders(
    ns: dict[str, Any], names: Iterable[str], ids: set[int], is_user: Callable[[str], bool]
) -> set[str]:
    """Those of ``names`` that are the user's (``is_user``) and bound to one of the objects
    ``ids`` (``_ident``s), or to a container holding one.

    Looks at every value: the filtering is done by C-level ``map``/``compress`` so that only
    containers cost a Python step, and only the user's containers are scanned (not IPython's
    ``In``/``Out``, which grow every cell). The tracker takes ``_watched_holders`` instead.
    """
    names = list(names)
    values = list(map(ns.get, names))
    idents = list(map(_ident, values))
    out: set[str] = set()
    if not ids.isdisjoint(idents):
        out.update(n for n, i in zip(names, idents) if i in ids and is_user(n))  # noqa: B905
    keep = map(operator.not_, map(_OPAQUE.__contains__, map(type, values)))
    for name, value in compress(zip(names, values), keep):  # noqa: B905
        if name not in out and is_user(name) and _holds(value, ids):
            out.add(name)
    return out


def _watched_holders(
    ns: dict[str, Any], watch: Any, ids: set[int], is_user: Callable[[str], bool]
) -> set[str]:
    """``_holders`` through the namespace's ``snapshots.Watch``: the names bound to a changed
    object found in the packed ids of its snapshot, the containers kept by ``holding`` across
    cells; only the containers' values are looked at (on real cells every value touched is a
    likely cache miss: the whole-namespace pass cost ~110 us per mutating cell)."""
    addresses = {_address(i) for i in ids}  # type: ignore[misc]
    out = {n for n in watch.bound_to(ns, addresses) if is_user(n)}
    for name in watch.holding(ns, _OPAQUE):
        if name not in out and is_user(name) and _holds(ns[name], ids):
            out.add(name)
    return out


def _bases(value: Any, numpy: Any) -> set[int]:
    """The ``_ident``s of the objects whose memory an array views (its ``base`` chain)."""
    out: set[int] = set()
    while isinstance(value, numpy.ndarray) and value.base is not None:
        value = value.base
        out.add(_ident(value))
    return out


def _members(value: Any) -> Any:
    """What a container holds: a dict's values, a sequence's or set's elements, an instance's
    attributes; None for anything else."""
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, (list, tuple, set, frozenset, deque)):
        return value
    attrs = getattr(value, "__dict__", None)
    return attrs.values() if isinstance(attrs, dict) else None


def _holds(value: Any, ids: set[int]) -> bool:
    """``value`` (a container) holds one of the objects ``ids`` (``_ident``s), directly or
    through containers nested ``HOLD_DEPTH`` levels deep (``cfg["model"]["layers"]`` changed
    through a bound method charges ``cfg``), looking at ``ALIAS_SCAN`` elements at most; or (an
    array) views the memory of one.

    Level by level, each level's elements checked and filtered in C (``map``, ``compress``, set
    operations): a list of a few thousand small objects costs one Python step per object, not
    one per element."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return not ids.isdisjoint(_bases(value, numpy))
    level = [value]
    budget = ALIAS_SCAN
    seen: set[int] = set()
    for depth in range(HOLD_DEPTH, 0, -1):
        found: list[Any] = []
        for container in level:
            kind = type(container)
            inner = (
                container
                if kind is list or kind is tuple
                else container.values()
                if kind is dict
                else _members(container)
            )
            if inner is None:
                continue
            budget -= len(inner)
            if budget < 0:  # what was found so far still counts
                return not ids.isdisjoint(map(_ident, found))
            found.extend(inner)
        if not ids.isdisjoint(map(_ident, found)):
            return True
        if depth == 1:
            break
        opaque = map(_OPAQUE.__contains__, map(type, found))
        kept = list(compress(found, map(operator.not_, opaque)))
        by_ident = dict(zip(map(_ident, kept), kept))  # noqa: B905
        fresh = list(filterfalse(seen.__contains__, by_ident))  # (in order: a cut is the same)
        if not fresh:
            break
        seen.update(fresh)
        level = list(map(by_ident.__getitem__, fresh))
    return False


def _address_of_ident() -> Callable[[int], int] | None:
    """``_ident(x) -> id(x)``, where the default hash is the address rotated right by 4 bits
    (CPython's pointer hash), checked on probes; else None (the holders are then found by
    looking at every value)."""
    try:
        bits = struct.calcsize("P") * 8
        mask = (1 << bits) - 1

        def address(ident: int) -> int:
            h = ident & mask
            return ((h << 4) | (h >> (bits - 4))) & mask

        probes = [object(), [], {}, "probe", 2**70, address]
        if all(address(_ident(p)) == id(p) for p in probes):
            return address
    except Exception:
        pass
    return None


_address = _address_of_ident()
