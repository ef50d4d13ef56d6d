"""From cell source to a Python AST, the way IPython would run it."""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from IPython.core.inputtransformer2 import TransformerManager

# A line opening with a magic or shell escape cannot be plain Python.
_MAGIC_LINE = re.compile(r"^[ \t]*[%!]", re.MULTILINE)


@lru_cache(maxsize=1)
def _transformer() -> TransformerManager:
    return TransformerManager()  # type: ignore[no-untyped-call]


def to_python(source: str) -> str:
    return _transformer().transform_cell(source)


def parse_cell(source: str) -> ast.Module:
    """Parse cell source; raises SyntaxError like the kernel would (UnicodeEncodeError for a
    lone surrogate)."""
    if "\x00" in source:
        # ast.parse raises ValueError for it before Python 3.12, and IPython's transformer
        # (tokenize) a SystemError in 3.13.0.
        raise SyntaxError("source code cannot contain null bytes")
    if not _MAGIC_LINE.search(source):
        try:
            # Plain Python is left unchanged by IPython's transformers, and parsing first is
            # ~4x cheaper than transforming every cell.
            return ast.parse(source)
        except SyntaxError:
            pass
    return ast.parse(to_python(source))
