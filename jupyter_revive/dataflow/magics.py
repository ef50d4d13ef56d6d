"""IPython magics after transformation (`get_ipython().run_line_magic(...)` and friends)."""

from __future__ import annotations

import ast
import shlex
from typing import TYPE_CHECKING

from . import rules
from .calls import const_str
from .records import SideEffect
from .source import parse_cell

if TYPE_CHECKING:
    from .visitor import CellVisitor


def _first_word(line: str) -> str | None:
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    return next((w for w in words if not w.startswith("-")), None)


def _run_code(visitor: CellVisitor, code: str, *, reads_only: bool = False) -> None:
    try:
        module = parse_cell(code)
    except SyntaxError:
        return  # the magic fails in the kernel too; nothing gets bound
    if not reads_only:
        visitor.visit_code(module.body)
        return
    # %timeit runs its statement in a private namespace: only the reads escape.
    from .visitor import CellVisitor

    inner = CellVisitor()
    inner.bound = [set(visitor.bound[-1])]
    inner.visit_code(module.body)
    visitor.reads |= inner.reads


def visit_magic(visitor: CellVisitor, method: str, call: ast.Call) -> None:
    args = [const_str(a) or "" for a in call.args]
    if method in {"system", "getoutput"}:
        visitor.side_effects.append(SideEffect("shell", f"!{args[0] if args else ''}"))
    elif method == "run_line_magic" and args:
        _line_magic(visitor, args[0], args[1] if len(args) > 1 else "")
    elif method == "run_cell_magic" and len(args) >= 3:
        _cell_magic(visitor, args[0], args[1], args[2])
    elif method in {"push", "user_ns", "ex", "run_cell"}:
        visitor.dynamic.append(f"get_ipython().{method}()")


def _line_magic(visitor: CellVisitor, name: str, line: str) -> None:
    if name in rules.LINE_MAGICS_INSTALL:
        visitor.side_effects.append(SideEffect("install", f"%{name} {line}".strip()))
    elif name in rules.LINE_MAGICS_SHELL:
        visitor.side_effects.append(SideEffect("shell", f"%{name} {line}".strip()))
    elif name in rules.LINE_MAGICS_RUN_CODE:
        _run_code(visitor, line)
    elif name == "timeit":
        _run_code(visitor, line, reads_only=True)
    elif name in rules.LINE_MAGICS_CWD:
        visitor.change_cwd()
    elif name == "run":
        visitor.dynamic.append(f"%run {line}".strip())
        visitor._read(rules.CWD)
    elif name == "store" and "-r" in line.split():
        visitor.dynamic.append(f"%store {line}")


def _cell_magic(visitor: CellVisitor, name: str, line: str, body: str) -> None:
    if name in rules.CELL_MAGICS_RUN_CODE:
        _run_code(visitor, body)
        if name == "capture" and (out := _first_word(line)):
            visitor._bind(out)
    elif name in rules.CELL_MAGICS_TIMEIT:
        _run_code(visitor, body, reads_only=True)
    elif name in rules.CELL_MAGICS_SHELL:
        visitor.side_effects.append(SideEffect("shell", f"%%{name}"))
    elif name in rules.CELL_MAGICS_FILE:
        visitor.side_effects.append(SideEffect("file-write", f"%%{name} {line}".strip()))
    elif name not in rules.CELL_MAGICS_DISPLAY:
        # %%R -o df, %%sql result << ...: foreign cell magics may bind anything
        visitor.dynamic.append(f"%%{name}")
