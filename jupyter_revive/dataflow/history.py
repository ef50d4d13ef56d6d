"""The executions to replay, in order, read from a notebook's cells and metadata.

Preference: `metadata.revive.history` (repeats included), else execution counts, else document
order. Cell metadata `revive` (the ledger's record of the cell's last run) is attached to the
execution it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..contract import (
    CellId,
    Order,
    RunRecord,
    cell_id,
    cell_source,
    code_sha,
    counted_order,
    document_order,
    history_entries,
    notebook_cells,
    notebook_context,
    run_record,
)

HistorySource = Order


@dataclass(frozen=True)
class Execution:
    position: int  # 0-based place in the replay order
    cell_id: CellId
    cell_index: int | None  # position in nb.cells; None when the cell is gone
    source: str | None  # current source; None when gone or no longer a code cell
    recorded_sha: str | None  # hash of the code as it ran, when known
    ledger: RunRecord | None  # the cell's run record, when it describes this execution

    @property
    def replayable(self) -> bool:
        return self.source is not None

    @property
    def edited(self) -> bool:
        return (
            self.source is not None
            and self.recorded_sha is not None
            and self.recorded_sha != code_sha(self.source)
        )


@dataclass(frozen=True)
class History:
    source: HistorySource
    context: str | None
    executions: tuple[Execution, ...]
    malformed_entries: int = 0


def read_history(nb: Mapping[str, Any]) -> History:
    cells = notebook_cells(nb)
    context = notebook_context(nb)
    by_id = {cell_id(cell, i): i for i, cell in enumerate(cells)}

    def code_source(index: int | None) -> str | None:
        if index is None or cells[index].get("cell_type") != "code":
            return None
        return cell_source(cells[index])

    recorded = history_entries(nb)
    if recorded is not None:
        entries, malformed = recorded
        last_run = {entry.cell_id: pos for pos, entry in enumerate(entries)}
        executions = []
        for pos, entry in enumerate(entries):
            index = by_id.get(entry.cell_id)
            ledger = None
            if index is not None and last_run[entry.cell_id] == pos:
                ledger = run_record(cells[index], context)
                if (
                    ledger is not None
                    and entry.sha is not None
                    and ledger.code
                    not in (
                        None,
                        entry.sha,
                    )
                ):
                    ledger = None
            executions.append(
                Execution(pos, entry.cell_id, index, code_source(index), entry.sha, ledger)
            )
        return History("history", context, tuple(executions), malformed)

    order = counted_order(cells)
    kind: HistorySource = "execution_count" if order else "document"
    if not order:
        order = document_order(cells)
    executions = []
    for pos, index in enumerate(order):
        ledger = run_record(cells[index], context)
        sha = ledger.code if ledger is not None else None
        cid = cell_id(cells[index], index)
        executions.append(Execution(pos, cid, index, code_source(index), sha, ledger))
    return History(kind, context, tuple(executions))
