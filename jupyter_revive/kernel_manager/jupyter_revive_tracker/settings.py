"""Process state outside the namespace that later cells compute with: library settings and the
global random generators, read after every execution and compared with what the last one left.

Settings: pandas options (by key, against pandas' defaults when pandas was loaded since), numpy's
print options and floating-point error handling, scikit-learn's configuration
(``set_config(transform_output="pandas")`` changes what every later ``transform`` returns), the
``decimal`` context (precision, rounding,
exponent limits, traps; not its flags, which every inexact operation raises), the ``warnings``
filters that turn warnings into errors, matplotlib's ``rcParams`` (``plt.style.use``,
``sns.set_theme()``: the figures made after them differ), the C library's locale
(``locale.setlocale``: ``locale.format_string``, ``strxfrm`` and ``time.strftime`` follow it), and
``sys.path``. A cell that changes one (``getcontext().prec = 5``, a helper calling
``np.set_printoptions``) changes what later cells compute, whatever its source shows.

Global generators: numpy's legacy one (``np.random.seed``/``rand``, and libraries drawing from it
when given no ``random_state``) and the ``random`` module's. A cell that changed one drew from it
(or seeded it), through whatever code: a restore must replay it for the next draw to come out
the same. Each is known by its position and first two words, read through views of its memory
in its C layout (numpy's documented ctypes interface), checked on probes first:
``getstate()`` would build 625 ints (~9 us) and numpy's ``get_state()`` a dict (~33 us) after
every cell. numpy's legacy generator also caches a second normal deviate outside that state;
while it holds one, its full state is read (a cell may use only the cached value).

Readers keep what they read last and give back that same object while nothing changed: run
after every cell with the caches cold, every object touched counts (comparing whole states and
listing the decimal traps cost ~50 us per cell on the replay benchmark; this costs a few).

Only modules already imported are read (nothing is imported here); a module seen for the first
time is taken as it is, except pandas (compared with its defaults) and numpy's generator (drawn
from since it was made or seeded, or not). ``random`` and ``decimal`` are loaded when the kernel
starts. Each read costs ~1 us per module.
"""

from __future__ import annotations

import operator
import sys
from typing import Any

from .snapshots import dict_tag

# Keys of the settings (record ``env.options`` entries) and of the generators (``env.random``:
# the planner's hidden states ``<numpy.random>`` and ``<random>``).
NUMPY_PRINT = "numpy:printoptions"
NUMPY_ERRORS = "numpy:errstate"
SKLEARN = "sklearn:config"
DECIMAL = "decimal:context"
WARNINGS = "warnings:filters"
SYS_PATH = "sys:path"
MATPLOTLIB_RC = "matplotlib:rcParams"
LOCALE = "locale:LC_ALL"
NUMPY_RNG = "numpy.random"
PYTHON_RNG = "random"
GENERATORS = (NUMPY_RNG, PYTHON_RNG)

# A Mersenne Twister's state is 624 32-bit words and a position in them. Every draw moves the
# position, and a draw that brings it back to where it was regenerated the words first: the
# position and the first words tell a changed state from an unchanged one (a seed sets both).
_MT_WORDS = 624

_views_made: Any
try:  # generators' states are read through views of their memory (probed first)
    from ctypes import c_int32, c_uint32

    def _views_made(owner: Any, position: int, words: int) -> _Twister:
        return _Twister(owner, c_int32.from_address(position), c_uint32.from_address(words),
                        c_uint32.from_address(words + 4))  # fmt: skip
except Exception:  # no ctypes: the portable reads, or none
    _views_made = None


class _Twister:
    """Live views of a Mersenne Twister's position and first two words, held with the object
    that owns that memory (so that it stays valid). Reading ``.value`` of a ctypes view is an
    attribute access: a ``ctypes.string_at`` call costs ~10 us after a cell (cold caches)."""

    __slots__ = ("first", "owner", "position", "second")

    def __init__(self, owner: Any, position: Any, first: Any, second: Any) -> None:
        self.owner, self.position, self.first, self.second = owner, position, first, second

    def token(self) -> tuple[int, int, int]:
        return (self.position.value, self.first.value, self.second.value)


def _python_twister(r: Any) -> _Twister:
    # CPython's random.Random: the object header, then the position, then the words.
    at = id(r) + object.__basicsize__
    return _views_made(r, at, at + 4)  # type: ignore[no-any-return]


def _numpy_twister(rs: Any) -> _Twister:
    # numpy's MT19937 state (its bit generator's documented ctypes interface): words, position.
    at = rs._bit_generator.ctypes.state_address
    return _views_made(rs._bit_generator, at + 4 * _MT_WORDS, at)  # type: ignore[no-any-return]


def _probed(make: Any, probes: list[Any], draw: Any, expected: Any) -> Any:
    """``make`` if the views it makes of each probe generator read what ``expected`` says,
    after 0, 1 and 700 draws; else None."""
    if _views_made is None or sys.implementation.name != "cpython":
        return None
    try:
        for probe in probes:
            views = make(probe)
            for draws in (0, 1, 700):
                draw(probe, draws)
                if views.token() != expected(probe):
                    return None
    except Exception:
        return None
    return make


def _python_expected(r: Any) -> tuple[int, int, int]:
    _, key, _ = r.getstate()
    return (key[-1], key[0], key[1])


def _numpy_expected(rs: Any) -> tuple[int, int, int]:
    state = rs.get_state(legacy=False)["state"]
    return (int(state["pos"]), int(state["key"][0]), int(state["key"][1]))


def _python_draws(r: Any, n: int) -> None:
    for _ in range(n):
        r.random()


class _Viewer:
    """Views of one kind of generator: made by the maker ``probe()`` gives once it checked the
    layout on probes (None: it did not), then kept for the generator they were made for."""

    __slots__ = ("_made", "_make", "_probe")

    def __init__(self, probe: Any) -> None:
        self._probe = probe
        self._make: Any = _viewer_unprobed
        self._made: tuple[Any, _Twister] | None = None  # (generator, its views)

    def of(self, generator: Any) -> _Twister | None:
        if self._make is _viewer_unprobed:
            try:
                self._make = self._probe()
            except Exception:  # no probe generators: no views, ever
                self._make = None
        if self._make is None:
            return None
        made = self._made
        if made is None or made[0] is not generator:
            made = self._made = (generator, self._make(generator))
        return made[1]


_viewer_unprobed = object()
_python_viewer = _Viewer(
    lambda: _probed(
        _python_twister,
        [sys.modules["random"].Random(0), sys.modules["random"].Random(12345)],
        _python_draws,
        _python_expected,
    )
)
_numpy_viewer = _Viewer(
    lambda: _probed(
        _numpy_twister,
        [sys.modules["numpy.random.mtrand"].RandomState(7)],
        lambda g, n: g.random_sample(n),
        _numpy_expected,
    )
)
# numpy's legacy generator: (token, the cached normal as get_state gives it) at the last read
_numpy_last: tuple[tuple[int, int, int], Any] = ((-1, 0, 0), None)


def _python_generator() -> Any:
    inst = getattr(sys.modules.get("random"), "_inst", None)
    if inst is None:
        return None
    views = _python_viewer.of(inst)
    if views is None:
        return inst.getstate()
    return (views.token(), inst.gauss_next)


def _numpy_generator() -> Any:
    global _numpy_last
    rs = getattr(sys.modules.get("numpy.random.mtrand"), "_rand", None)
    if rs is None:
        return None
    views = _numpy_viewer.of(rs)
    if views is None:
        return None  # no cheap read: the static analysis alone sees its draws
    token = views.token()
    last, cached = _numpy_last
    if token == last and cached is None:
        return _numpy_last
    state = rs.get_state(legacy=False)
    _numpy_last = (token, state["gauss"] if state["has_gauss"] else None)
    return _numpy_last


def _numpy_drawn(state: tuple[tuple[int, int, int], Any]) -> bool:
    """Whether numpy's legacy generator was drawn from since it was made or last seeded: numpy
    loads ``numpy.random`` on first use, so the first cell that sees it may have drawn from it
    (``np.random.rand()`` as the first use). Made from entropy it stands at position 623 of its
    words, seeded at 624, with no normal cached; draws move it (unless they end on 623 or 624
    again: then they are missed, and the static analysis alone sees them)."""
    (position, _, _), cached = state
    return cached is not None or position not in (_MT_WORDS - 1, _MT_WORDS)


# (context, its token, a copy of its traps) at the last read: comparing the traps with a dict
# is one C call, listing them costs ten times more.
_decimal_seen: tuple[Any, Any, dict[Any, Any]] = (None, None, {})


def _decimal_context() -> Any:
    global _decimal_seen
    decimal = sys.modules.get("decimal")
    if decimal is None:
        return None
    c = decimal.getcontext()
    plain = (c.prec, c.rounding, c.Emin, c.Emax, c.capitals, c.clamp)
    context, token, traps = _decimal_seen
    if c is context and plain == token[0] and c.traps == traps:
        return token
    traps = dict(c.traps)
    token = (plain, tuple(sorted(t.__name__ for t, on in traps.items() if on)))
    _decimal_seen = (c, token, traps)
    return token


def _numpy_print() -> Any:
    numpy = sys.modules.get("numpy")
    return None if numpy is None else numpy.get_printoptions()


def _numpy_errors() -> Any:
    numpy = sys.modules.get("numpy")
    return None if numpy is None else numpy.geterr()


def _sklearn_config() -> Any:
    sklearn = sys.modules.get("sklearn")
    get_config = getattr(sklearn, "get_config", None)
    return None if get_config is None else get_config()


# (the filter list, its length, first and last entry; the filters that raise) at the last read:
# the warnings functions insert at the front or append, so those tell a changed list.
_warnings_seen: tuple[Any, Any] = (None, None)


def _warning_filters() -> Any:
    # Only filters that raise change what a cell computes; libraries add "ignore" ones on import.
    global _warnings_seen
    warnings = sys.modules.get("warnings")
    if warnings is None:
        return None
    filters = warnings.filters
    ends = (filters, filters[0], filters[-1]) if filters else (filters,)
    last, raising = _warnings_seen
    if (
        last is not None
        and last[0] == len(filters)
        and len(last) - 1 == len(ends)
        and all(map(operator.is_, last[1:], ends))
    ):
        return raising
    raising = tuple(f for f in filters if f[0] == "error")
    _warnings_seen = ((len(filters), *ends), raising)
    return raising


# (a view of rcParams' version tag, the tag, a copy of its entries) at the last read
_rc_seen: tuple[Any, Any, dict[str, Any] | None] = (None, None, None)


def _matplotlib_rc() -> Any:
    """matplotlib's ``rcParams`` as stored (``dict`` reads: its own ``__getitem__`` may resolve
    the backend, which imports pyplot); the same copy while its version tag stays (a
    ``dict_tag``) or its entries compare equal (``rc_context`` sets and puts back)."""
    global _rc_seen
    rc = getattr(sys.modules.get("matplotlib"), "rcParams", None)
    if not isinstance(rc, dict):
        return None
    view, tag, last = _rc_seen
    if view is not None and view.dict is rc and view.value == tag:
        return last
    if dict_tag is not None and (view is None or view.dict is not rc):
        view = dict_tag(rc)
    tag = view.value if view is not None else None
    copy = dict.copy(rc)
    if last is not None and dict.__eq__(copy, last) is True:
        copy = last
    _rc_seen = (view, tag, copy)
    return copy


def _locale() -> Any:
    """Every category's locale, as ``setlocale`` names them (one string; a query, no change:
    the C function itself, ``locale.setlocale`` only checks its arguments before calling it)."""
    c_locale = sys.modules.get("_locale")
    return None if c_locale is None else c_locale.setlocale(c_locale.LC_ALL, None)


def _sys_path() -> Any:
    return tuple(sys.path)


_READERS = (
    (NUMPY_PRINT, _numpy_print),
    (NUMPY_ERRORS, _numpy_errors),
    (SKLEARN, _sklearn_config),
    (DECIMAL, _decimal_context),
    (WARNINGS, _warning_filters),
    (MATPLOTLIB_RC, _matplotlib_rc),
    (LOCALE, _locale),
    (SYS_PATH, _sys_path),
    (NUMPY_RNG, _numpy_generator),
    (PYTHON_RNG, _python_generator),
)

_KEYS = tuple(key for key, _ in _READERS)
_FUNCTIONS = tuple(reader for _, reader in _READERS)

# (pandas options by dotted key or NO_OPTIONS, the other readers' values in ``_READERS`` order:
# None where the module is not loaded)
State = tuple[dict[str, Any], tuple[Any, ...]]
NO_OPTIONS: dict[str, Any] = {}  # pandas not loaded (never changed: only compared)
NOTHING_READ: State = (NO_OPTIONS, (None,) * len(_READERS))
_last_state: State = NOTHING_READ


def read() -> State:
    """The state now: the same object as last time while nothing changed. The dearer readers
    (decimal, warnings, numpy's generator) give back the object they gave last time while their
    state is unchanged, so most of the comparison is identity; after every cell, with the
    caches cold, each object touched counts."""
    global _last_state
    options, last = _last_state
    try:
        found = tuple([reader() for reader in _FUNCTIONS])
    except Exception:  # one by one: a reader that fails keeps its last value, not a guess
        found = tuple(_read_or_keep(reader, value) for reader, value in zip(_FUNCTIONS, last))  # noqa: B905
    try:
        same = found == last
    except Exception:
        same = False
    now = pandas_options()
    if not same or now is not options:
        _last_state = (now, last if same else found)
    return _last_state


def _read_or_keep(reader: Any, value: Any) -> Any:
    try:
        return reader()
    except Exception:
        return value


def changed(before: State, after: State) -> tuple[list[str], list[str]]:
    """(settings changed, as "pandas:display.precision" or ``NUMPY_PRINT``..., generators
    changed, of ``GENERATORS``) between two reads; a module first seen in ``after`` is taken
    as it is (pandas: compared with its defaults, numpy's generator: ``_numpy_drawn``)."""
    options, old = before
    now_options, now = after
    if options is NO_OPTIONS and now_options is not NO_OPTIONS:
        options = pandas_defaults()  # loaded since: what importing pandas leaves
    settings = []
    if now_options is not options:
        settings = [f"pandas:{k}" for k in sorted(_changed(options, now_options))]
    generators: list[str] = []
    if now is not old:
        for key, was, value in zip(_KEYS, old, now):  # noqa: B905
            if value is None or was is value:
                continue
            if was is None:  # first seen
                if key == NUMPY_RNG and _numpy_drawn(value):
                    generators.append(key)
                continue
            try:
                same = bool(was == value)
            except Exception:
                same = False
            if not same:
                (generators if key in GENERATORS else settings).append(key)
    settings.sort()
    return settings, generators


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Keys whose value differs (or that appeared); a value that cannot be compared counts as
    changed."""
    out = []
    for key, value in after.items():
        try:
            same = key in before and bool(before[key] == value)
        except Exception:
            same = False
        if not same:
            out.append(key)
    return out


_options_seen: tuple[dict[str, Any] | None, dict[str, Any]] = (None, {})  # (nested copy, flat)


def _pandas_config(attr: str) -> Any:
    """An attribute of pandas' option registry (``pandas._config.config``), if pandas is
    loaded and has one."""
    module = getattr(getattr(sys.modules.get("pandas"), "_config", None), "config", None)
    return getattr(module, attr, None)


def pandas_options() -> dict[str, Any]:
    """pandas' option values by dotted key, if pandas is loaded; the same object as last time
    while no option changed (comparing the nested settings is all a cell costs)."""
    global _options_seen
    if sys.modules.get("pandas") is None:
        return NO_OPTIONS
    config = _pandas_config("_global_config")
    if not isinstance(config, dict):
        return {}
    if config == _options_seen[0]:
        return _options_seen[1]
    flat: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    todo: list[tuple[str, dict[str, Any], dict[str, Any]]] = [("", config, nested)]
    while todo:
        prefix, d, copy = todo.pop()
        for k, v in d.items():
            if isinstance(v, dict):
                copy[k] = {}
                todo.append((f"{prefix}{k}.", v, copy[k]))
            else:
                copy[k] = v
                flat[prefix + k] = v
    _options_seen = (nested, flat)
    return flat


def pandas_defaults() -> dict[str, Any]:
    """pandas' registered default option values by dotted key (what an import leaves)."""
    registered = _pandas_config("_registered_options")
    if not isinstance(registered, dict):
        return {}
    return {k: getattr(o, "defval", None) for k, o in registered.items()}
