"""`jupyter revive …` command line (`jupyter revive` runs the `jupyter-revive` executable)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import nbformat

from .dataflow import Plan, plan_notebook


class NotebookError(Exception):
    """The notebook cannot be read or is not a valid nbformat v4 document."""

    @classmethod
    def from_exception(cls, path: str, exc: BaseException) -> NotebookError:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, FileNotFoundError):
            detail = "no such file"
        elif isinstance(exc, IsADirectoryError):
            detail = "is a directory"
        elif isinstance(exc, PermissionError):
            detail = "permission denied"
        elif isinstance(exc, OSError):
            detail = f"cannot read: {exc.strerror or first}"
        elif isinstance(exc, nbformat.ValidationError):
            detail = f"not a valid notebook: {exc.message.splitlines()[0]}"
        elif isinstance(exc, UnicodeDecodeError):
            detail = "not UTF-8 text"
        elif isinstance(exc, nbformat.reader.NotJSONError):
            detail = "not JSON"
        else:
            detail = f"not a valid notebook: {first}"
        return cls(f"{path}: {detail}")


def read_notebook(path: str) -> nbformat.NotebookNode:
    try:
        with open(path, encoding="utf-8") as f:
            nb: nbformat.NotebookNode = nbformat.read(f, as_version=4)  # type: ignore[no-untyped-call]
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises a zoo of types for bad input; all mean "invalid"
        raise NotebookError.from_exception(path, exc) from exc
    return nb


_ORIGINS = {
    "history": "recorded history",
    "execution_count": "no recorded history: by execution counts",
    "document": "no recorded history or counts: in document order",
}


def _table(plan: Plan, path: str) -> str:
    origin = _ORIGINS[plan.history_source]
    lines = [f"{path}: {len(plan.cells)} cell(s) to run, in order ({origin})"]
    if plan.cells:
        width = max(len(str(c.index + 1)) for c in plan.cells)
        lines.append(f"  {'#':>3}  {'cell':>{max(width, 4)}}  reason")
        for step, cell in enumerate(plan.cells, 1):
            lines.append(f"  {step:>3}  {cell.index + 1:>{max(width, 4)}}  {cell.reason}")
    lines.append("restores: " + (", ".join(plan.names) or "(nothing)"))
    if plan.unrestorable:
        lines.append("unrestorable: " + ", ".join(plan.unrestorable))
    for warning in plan.warnings:
        lines.append(f"warning [{warning.kind}]: {warning.message}")
    return "\n".join(lines)


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    nb = read_notebook(args.notebook)
    names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
    plan = plan_notebook(nb, names)
    if args.json:
        json.dump(plan.to_json(), out, indent=2)
        out.write("\n")
    else:
        out.write(_table(plan, args.notebook) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jupyter revive", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan", help="list the cells that rebuild a notebook's lost variables, in order"
    )
    plan.add_argument("notebook", help="path to an .ipynb file")
    plan.add_argument("--names", help="comma-separated variables to restore (default: all)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(run=_plan)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args: Any = _parser().parse_args(argv)
    try:
        return int(args.run(args, sys.stdout))
    except NotebookError as exc:
        print(f"jupyter revive: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
