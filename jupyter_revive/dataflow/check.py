"""Could the notebook's saved state come from running it top to bottom? The findings if not.

From the recorded history and the same dependencies the planner uses:
- ``order``: a cell used a value (name or file) that a cell *below* it made;
- ``repeated``: a cell ran more than once and a later run used what its earlier run made
  (``x += 1``, ``df = df.dropna()`` run twice, an append), so one pass gives something else;
- ``edited``: a cell was edited after its last run (its outputs and values are the old code's),
  or a value made by a cell before it was edited was used by another cell;
- ``deleted``: a cell that ran was deleted since: what it made (names, files, environment)
  cannot be replayed, and nothing records what it was.

Pure: ``jupyter revive check`` prints them; the UI shows them as a notice on save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import rules
from .effects import resolve
from .graph import display_name
from .history import read_history
from .planner import dependencies

FindingKind = Literal["order", "repeated", "edited", "deleted"]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    cell: int | None  # position in the notebook of the cell concerned
    cell_id: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "cell": self.cell, "id": self.cell_id, "message": self.message}

    def line(self, path: str) -> str:
        where = f"cell {self.cell + 1}" if self.cell is not None else "a deleted cell"
        return f"{path}: {where}: {self.message}"


def _shown(names: set[str]) -> str:
    parts = []
    for name in sorted(names):
        kind, text = display_name(name)
        parts.append(f"file {text}" if kind == "file" else text)
    return rules.shortened(parts, 4)


def _below(made: int | None, used: int | None) -> bool:
    return made is not None and used is not None and made > used


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def findings(nb: Mapping[str, Any]) -> list[Finding]:
    """What keeps ``nb``'s saved state from being reproduced by running it top to bottom."""
    history = read_history(nb)
    effects = resolve(history)
    executions = [e.execution for e in effects]
    last_run = {x.cell_id: x.position for x in executions}
    # (kind, consumer position, producer position) -> names
    found: dict[tuple[FindingKind, int, int], set[str]] = {}

    def note(kind: FindingKind, consumer: int, producer: int, name: str) -> None:
        found.setdefault((kind, consumer, producer), set()).add(name)

    for producer, consumer, name in dependencies(effects):
        made, used = executions[producer], executions[consumer]
        if producer == consumer:
            continue
        if made.cell_id == used.cell_id:
            note("repeated", consumer, producer, name)
        elif made.edited and used.cell_index is not None:
            note("edited", consumer, producer, name)
        elif _below(made.cell_index, used.cell_index):
            note("order", consumer, producer, name)

    out: list[Finding] = []
    for x in executions:
        if last_run[x.cell_id] != x.position:
            continue
        if x.edited:
            out.append(Finding("edited", x.cell_index, str(x.cell_id), "edited after it last ran"))
        elif x.cell_index is None:
            runs = sum(1 for e in executions if e.cell_id == x.cell_id)
            message = (
                f"ran ({_ordinal(x.position + 1)} execution"
                + (f", {runs} runs" if runs > 1 else "")
                + ") and was deleted since: what it made cannot be replayed"
            )
            out.append(Finding("deleted", None, str(x.cell_id), message))
    for (kind, consumer, producer), names in sorted(found.items(), key=lambda f: f[0][1:]):
        used, made = executions[consumer], executions[producer]
        what = _shown(names)
        if kind == "repeated":
            message = f"ran more than once, and a later run used what an earlier one made: {what}"
        elif kind == "edited":
            assert made.cell_index is not None
            message = f"used {what} from cell {made.cell_index + 1} before that cell was edited"
        else:
            assert made.cell_index is not None
            message = f"used {what}, made by cell {made.cell_index + 1} below it"
        out.append(Finding(kind, used.cell_index, str(used.cell_id), message))
    return out
