"""Process state outside the namespace that later cells compute with: library settings and the
global random generators, read after every execution and compared with what the last one left.

Settings: pandas options (by key, against pandas' defaults when pandas was loaded since), numpy's
print options and floating-point error handling, scikit-learn's configuration
(``set_config(transform_output="pandas")`` changes what every later ``transform`` returns), the
``decimal`` context (precision, rounding,
exponent limits, traps; not its flags, which every inexact operation raises), the ``warnings``
filters that turn warnings into errors, and ``sys.path``. A cell that changes one
(``getcontext().prec = 5``, a helper calling ``np.set_printoptions``) changes what later cells
compute, whatever its source shows.

Global generators: numpy's legacy one (``np.random.seed``/``rand``, and libraries drawing from it
when given no ``random_state``) and the ``random`` module's. A cell that changed one drew from it
(or seeded it), through whatever code: a restore must replay it for the next draw to come out
the same. Their states (2.5 KB each) are read as raw bytes through their documented C layout,
checked on probes first: ``getstate()`` would build 625 ints (~9 us) and numpy's
``get_state()`` a dict (~33 us) after every cell. numpy's legacy generator also caches a second
normal deviate outside that state; while it holds one, its full state is read (a cell may use
only the cached value).

Only modules already imported are read (nothing is imported here); a module seen for the first
time is taken as it is, except pandas (compared with its defaults) and numpy's generator (drawn
from since it was made or seeded, or not). ``random`` and ``decimal`` are loaded when the kernel
starts. Each read costs ~1 us per module.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

# Keys of the settings (record ``env.options`` entries) and of the generators (``env.random``:
# the planner's hidden states ``<numpy.random>`` and ``<random>``).
NUMPY_PRINT = "numpy:printoptions"
NUMPY_ERRORS = "numpy:errstate"
SKLEARN = "sklearn:config"
DECIMAL = "decimal:context"
WARNINGS = "warnings:filters"
SYS_PATH = "sys:path"
NUMPY_RNG = "numpy.random"
PYTHON_RNG = "random"
GENERATORS = (NUMPY_RNG, PYTHON_RNG)

_MT_BYTES = 624 * 4 + 4  # a Mersenne Twister's key and position


_read_memory: Any
try:  # generators' states are read as raw memory (probed first)
    from ctypes import string_at as _read_memory
except Exception:  # no ctypes: the portable reads, or none
    _read_memory = None


def _python_rng_reader() -> Any:
    """``read(r)``: the raw state of a ``random.Random`` (index and key, as CPython lays them
    out after the object header), or None where a probe does not show that layout."""
    if _read_memory is None or sys.implementation.name != "cpython":
        return None
    import random

    offset = object.__basicsize__

    def read(r: Any) -> bytes:
        return _read_memory(id(r) + offset, _MT_BYTES)  # type: ignore[no-any-return]

    try:
        for seed in (0, 12345):
            probe = random.Random(seed)
            for draws in (0, 1, 700):
                for _ in range(draws):
                    probe.random()
                _, key, _ = probe.getstate()
                if read(probe) != struct.pack(f"i{len(key) - 1}I", key[-1], *key[:-1]):
                    return None
    except Exception:
        return None
    return read


def _numpy_rng_reader(mtrand: Any) -> Any:
    """``read(rs)``: the raw Mersenne Twister state of a numpy ``RandomState`` through its bit
    generator's ctypes interface, or None where a probe does not match ``get_state``."""
    if _read_memory is None:
        return None

    def read(rs: Any) -> bytes:
        return _read_memory(rs._bit_generator.ctypes.state_address, _MT_BYTES)  # type: ignore[no-any-return]

    try:
        probe = mtrand.RandomState(7)
        for draws in (0, 1, 700):
            probe.random_sample(draws)
            state = probe.get_state(legacy=False)["state"]
            expected = state["key"].astype("<u4").tobytes() + struct.pack("<i", state["pos"])
            if read(probe) != expected:
                return None
    except Exception:
        return None
    return read


_python_rng: Any = _python_rng_reader()
_numpy_rng: Any = None  # made once numpy.random is loaded
_numpy_probed = False
# numpy's legacy generator: (raw state, the cached normal as get_state gives it) at the last read
_numpy_last: tuple[bytes, Any] = (b"", None)


def _python_generator() -> Any:
    random = sys.modules.get("random")
    inst = getattr(random, "_inst", None)
    if inst is None:
        return None
    if _python_rng is not None:
        return (_python_rng(inst), inst.gauss_next)
    return inst.getstate()


def _numpy_generator() -> Any:
    global _numpy_rng, _numpy_probed, _numpy_last
    mtrand = sys.modules.get("numpy.random.mtrand")
    rs = getattr(mtrand, "_rand", None)
    if rs is None:
        return None
    if not _numpy_probed:
        _numpy_probed = True
        _numpy_rng = _numpy_rng_reader(mtrand)
    if _numpy_rng is None:
        return None  # no cheap read: the static analysis alone sees its draws
    raw = _numpy_rng(rs)
    last_raw, cached = _numpy_last
    if raw == last_raw and not cached:
        return _numpy_last
    state = rs.get_state(legacy=False)
    _numpy_last = (raw, state["gauss"] if state["has_gauss"] else None)
    return _numpy_last


def _numpy_drawn(state: tuple[bytes, Any]) -> bool:
    """Whether numpy's legacy generator was drawn from since it was made or last seeded: numpy
    loads ``numpy.random`` on first use, so the first cell that sees it may have drawn from it
    (``np.random.rand()`` as the first use). Made from entropy it stands at position 623 of its
    key, seeded at 624, with no normal cached; draws move it (unless they end on 623 or 624
    again: then they are missed, and the static analysis alone sees them)."""
    raw, cached = state
    return cached is not None or struct.unpack_from("<i", raw, _MT_BYTES - 4)[0] not in (623, 624)


def _decimal_context() -> Any:
    decimal = sys.modules.get("decimal")
    if decimal is None:
        return None
    c = decimal.getcontext()
    traps = tuple(sorted(t.__name__ for t, on in c.traps.items() if on))
    return (c.prec, c.rounding, c.Emin, c.Emax, c.capitals, c.clamp, traps)


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


def _warning_filters() -> Any:
    # Only filters that raise change what a cell computes; libraries add "ignore" ones on import.
    warnings = sys.modules.get("warnings")
    return None if warnings is None else tuple(f for f in warnings.filters if f[0] == "error")


def _sys_path() -> Any:
    return tuple(sys.path)


_READERS = (
    (NUMPY_PRINT, _numpy_print),
    (NUMPY_ERRORS, _numpy_errors),
    (SKLEARN, _sklearn_config),
    (DECIMAL, _decimal_context),
    (WARNINGS, _warning_filters),
    (SYS_PATH, _sys_path),
    (NUMPY_RNG, _numpy_generator),
    (PYTHON_RNG, _python_generator),
)

# (pandas options by dotted key or NO_OPTIONS, the other settings and generators by key)
State = tuple[dict[str, Any], dict[str, Any]]
NO_OPTIONS: dict[str, Any] = {}  # pandas not loaded (never changed: only compared)
NOTHING_READ: State = (NO_OPTIONS, {})
_last_read: dict[str, Any] = {}
_last_state: State = NOTHING_READ


def read() -> State:
    """The state now: the same object as last time while nothing changed (the comparison is
    then all an execution costs)."""
    global _last_read, _last_state
    found = {}
    for key, reader in _READERS:
        try:
            value = reader()
        except Exception:  # unreadable now: compared as unchanged rather than guessed
            value = _last_read.get(key)
        if value is not None:
            found[key] = value
    try:
        same = found == _last_read
    except Exception:
        same = False
    if not same:
        _last_read = found
    options = pandas_options()
    if options is not _last_state[0] or _last_read is not _last_state[1]:
        _last_state = (options, _last_read)
    return _last_state


def changed(before: State, after: State) -> tuple[list[str], list[str]]:
    """(settings changed, as "pandas:display.precision" or ``NUMPY_PRINT``..., generators
    changed, of ``GENERATORS``) between two reads; a module first seen in ``after`` is taken
    as it is (pandas: compared with its defaults)."""
    options, old = before
    now_options, now = after
    if options is NO_OPTIONS and now_options is not NO_OPTIONS:
        options = pandas_defaults()  # loaded since: what importing pandas leaves
    settings = []
    if now_options is not options:
        settings = [f"pandas:{k}" for k in sorted(_changed(options, now_options))]
    generators: list[str] = []
    if now is not old:
        for key, value in now.items():
            if key not in old:
                if key == NUMPY_RNG and _numpy_drawn(value):
                    generators.append(key)
                continue
            try:
                same = bool(old[key] == value)
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
