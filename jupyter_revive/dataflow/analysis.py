"""Entry point of the per-cell analysis: source in, `CellAnalysis` out, never raising."""

from __future__ import annotations

from functools import lru_cache

from .records import CellAnalysis
from .source import parse_cell
from .visitor import analyze_tree


@lru_cache(maxsize=4096)
def analyze_cell(source: str) -> CellAnalysis:
    try:
        module = parse_cell(source)
    except (SyntaxError, ValueError) as exc:  # ValueError: a lone surrogate (not UTF-8)
        return CellAnalysis(error=f"{type(exc).__name__}: {exc}")
    except RecursionError:
        return CellAnalysis(error="RecursionError: code nested too deeply to analyse")
    return analyze_tree(module)
