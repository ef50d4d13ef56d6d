"""The restore plan as handed to the CLI, the server and the frontend (DESIGN.md's plan JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..contract import CellId
from .history import HistorySource

WarningKind = Literal[
    "edited",  # the cell's code changed since it ran
    "deleted",  # a cell in the history no longer exists
    "unparsable",  # the cell's code is not valid (I)Python
    "side-effect",  # replay repeats shell commands, installs, file writes, network calls
    "unseeded-random",  # replay draws different random numbers
    "dynamic",  # kept because it may define names the analysis cannot see
    "error",  # the cell raised when it ran
    "live",  # a name already in the kernel is rebuilt because planned cells touch it
    "history",  # malformed history entries
    "listing",  # the cell lists a folder that later runs changed
]


@dataclass(frozen=True)
class PlanWarning:
    kind: WarningKind
    cell: int | None  # position in nb.cells, None when the cell is gone
    message: str
    cell_id: CellId | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "cell": self.cell, "id": self.cell_id, "message": self.message}


@dataclass(frozen=True)
class PlannedCell:
    index: int  # position in nb.cells
    cell_id: CellId
    reason: str
    history_position: int  # which execution of the history this replays

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.cell_id, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    cells: tuple[PlannedCell, ...]
    names: tuple[str, ...]  # targets the plan rebuilds
    unrestorable: tuple[str, ...]  # targets nothing replayable defines
    warnings: tuple[PlanWarning, ...]
    history_source: HistorySource
    # names that are not plain data: "module", "import", "class", "function", "temporary"
    kinds: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [cell.to_json() for cell in self.cells],
            "names": list(self.names),
            "kinds": dict(self.kinds),
            "unrestorable": list(self.unrestorable),
            "warnings": [warning.to_json() for warning in self.warnings],
        }
