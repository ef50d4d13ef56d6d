"""`jupyter revive …` command line (`jupyter revive` runs the `jupyter-revive` executable)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import nbformat

from .contract import notebook_identity
from .dataflow import Plan, plan_notebook
from .dataflow.check import findings
from .dataflow.graph import Graph, build_graph
from .inputs import InvalidInput, identifier


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


def _graph_text(graph: Graph, path: str) -> str:
    lines = [f"{path}: {len(graph.nodes)} execution(s), {len(graph.edges)} dependencies"]
    incoming: dict[str, list[str]] = {}
    for e in graph.edges:
        names = ", ".join(e.names)
        incoming.setdefault(e.target, []).append(f"{names} from {e.source}")
    for n in graph.nodes:
        where = f"cell {n.cell + 1}" if n.cell is not None else "deleted cell"
        flags = "".join(f" [{f}]" for f, on in (("edited", n.edited), ("failed", n.failed)) if on)
        lines.append(f"  {n.id}  {where}{flags}: {n.label}")
        for dep in incoming.get(n.id, []):
            lines.append(f"        uses {dep}")
    return "\n".join(lines)


def _graph(args: argparse.Namespace, out: TextIO) -> int:
    graph = build_graph(read_notebook(args.notebook))
    if args.json:
        json.dump(graph.to_json(), out, indent=2)
        out.write("\n")
    elif args.dot:
        out.write(graph.to_dot())
    else:
        out.write(_graph_text(graph, args.notebook) + "\n")
    return 0


def _check(args: argparse.Namespace, out: TextIO) -> int:
    """One line per finding; exit 1 when any notebook has one (for pre-commit and CI)."""
    status = 0
    for path in args.notebooks:
        found = findings(read_notebook(path))
        for finding in found:
            out.write(finding.line(path) + "\n")
        status = status or (1 if found else 0)
    return status


def _store(root: str | None) -> Any:
    """The checkpoint store as the server configures it (``c.ReviveCheckpoints.*`` in the
    server's config files), with ``--root`` over it."""
    from jupyter_core.application import JupyterApp
    from traitlets.config import Config

    from .checkpoint import ReviveCheckpoints

    app = JupyterApp(config_file_name="jupyter_server_config")
    app.load_config_file()
    config = Config(app.config)
    if root:
        config.ReviveCheckpoints.root = root
    return ReviveCheckpoints(config=config)


def _notebook_id(value: str | None) -> str | None:
    """A notebook identity, or the identity an .ipynb file records."""
    if value is None:
        return None
    if value.endswith(".ipynb") or os.path.sep in value:
        found = notebook_identity(read_notebook(value))
        if found is None:
            raise NotebookError(f"{value}: records no notebook identity, so it has no checkpoints")
        return found
    try:
        return identifier(value, "notebook")
    except InvalidInput as e:
        raise NotebookError(str(e)) from e


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def _checkpoints_list(args: argparse.Namespace, out: TextIO) -> int:
    store = _store(args.root)
    stored = store.stored(_notebook_id(args.notebook))
    if args.json:
        rows = [
            {
                "notebook": s.notebook,
                "checkpoint": s.checkpoint,
                "bytes": s.bytes,
                "used": s.used_iso,
                "names": list(s.names),
                "problem": s.problem,
            }
            for s in stored
        ]
        json.dump({"root": store.root, "checkpoints": rows}, out, indent=2)
        out.write("\n")
        return 0
    total = sum(s.bytes for s in stored)
    out.write(f"{store.root}: {len(stored)} checkpoint(s), {_size(total)}\n")
    for s in stored:
        what = ", ".join(s.names) or "(no variables)"
        if s.problem:
            what = f"cannot be loaded: {s.problem}"
        out.write(
            f"  {s.notebook}  {s.checkpoint}  used {_when(s.used)}  {_size(s.bytes):>9}  {what}\n"
        )
    return 0


def _checkpoints_prune(args: argparse.Namespace, out: TextIO) -> int:
    store = _store(args.root)
    older = None if args.older_than is None else args.older_than * 86400.0
    freed = store.prune(_notebook_id(args.notebook), args.all, older, args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    out.write(f"{verb} {len(freed.removed)} checkpoint(s), {_size(freed.bytes)}\n")
    for s in freed.removed:
        out.write(f"  {s.notebook}  {s.checkpoint}  {_size(s.bytes):>9}\n")
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

    graph = commands.add_parser(
        "graph", help="the notebook's executions and the values between them"
    )
    graph.add_argument("notebook", help="path to an .ipynb file")
    form = graph.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the graph as JSON")
    form.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    graph.set_defaults(run=_graph)

    check = commands.add_parser(
        "check",
        help=(
            "exit 1, with one line per finding, when a notebook's saved state could not come "
            "from running it top to bottom (out-of-order runs, edited or deleted cells)"
        ),
    )
    check.add_argument("notebooks", nargs="+", metavar="notebook", help="paths to .ipynb files")
    check.set_defaults(run=_check)

    checkpoints = commands.add_parser("checkpoints", help="show and free checkpoint space")
    actions = checkpoints.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list checkpoints, most recently used first")
    pruning = actions.add_parser(
        "prune",
        help=(
            "remove checkpoints that cannot be loaded and those beyond the size caps; with "
            "--all or --older-than also the notebook's (or every notebook's) others"
        ),
    )
    for action in (listing, pruning):
        action.add_argument(
            "notebook", nargs="?", help="an .ipynb file, or its identity (default: all)"
        )
        action.add_argument("--root", help="checkpoint folder (default: as the server has it)")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    pruning.add_argument("--all", action="store_true", help="remove every checkpoint chosen")
    pruning.add_argument(
        "--older-than", type=float, metavar="DAYS", help="remove those unused for DAYS days"
    )
    pruning.add_argument("--dry-run", action="store_true", help="say what would go, keep it")
    listing.set_defaults(run=_checkpoints_list)
    pruning.set_defaults(run=_checkpoints_prune)
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
