"""Bounded descriptions of user variables, for prompts and people.

Bounded in size (at most ``MAX_VARIABLES`` entries, ~120-char reprs, 4 KB details) and in time
(past ``SUMMARY_BUDGET_S`` entries carry name and type only), and never calls ``repr`` on an
object of an array library, which may be huge: those get a placeholder with their shape.
"""

from __future__ import annotations

import contextlib
import reprlib
import sys
import time
from collections import deque
from typing import Any

from .names import user_names

MAX_VARIABLES = 500
MAX_COLUMNS = 50
REPR_CHARS = 120
DETAIL_CHARS = 4096
# Wall-clock budget for one variables summary; past it, entries carry name and type only.
SUMMARY_BUDGET_S = 0.25

# Libraries whose objects may be huge: their repr is never called for a summary.
_ARRAY_LIBS = frozenset(
    ["pandas", "numpy", "polars", "torch", "tensorflow", "jax", "jaxlib", "xarray", "pyarrow",
     "dask", "cupy", "scipy", "geopandas", "modin", "vaex", "h5py", "zarr", "sparse"]
)  # fmt: skip
_CODE_TYPES = frozenset(["function", "builtin_function_or_method", "method", "partial"])
_SIZED = (list, tuple, dict, set, frozenset, str, bytes, bytearray, deque, range)


def summarize_variables(
    ns: dict[str, Any], hidden: dict[str, Any], names: list[str] | None, detail: bool = False
) -> dict[str, Any]:
    """``{"variables","total","truncated","partial"?,"missing"?,"elapsed_ms"}``.

    ``names`` None: every user name of ``ns`` (``hidden`` is IPython's ``user_ns_hidden``),
    data first, then code, then modules. Otherwise those names, in that order; the ones not in
    ``ns`` are listed as ``missing``.
    """
    t0 = time.perf_counter()
    missing: list[str] = []
    if names is None:
        wanted = user_names(ns, hidden)
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
    answer: dict[str, Any] = {"variables": variables, "total": total, "truncated": truncated}
    if partial:
        answer["partial"] = True
    if names is not None:
        answer["missing"] = missing
    answer["elapsed_ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
    return answer


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
