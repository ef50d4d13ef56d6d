"""The executions to replay, in order, read from a notebook's cells and metadata.

Preference: `metadata.revive.history` (repeats included), else execution counts, else document
order. Cell metadata `revive` (the ledger's record of the cell's last run) is attached to the
execution it describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .records import CellId
from .source import code_sha

HistorySource = Literal["history", "execution_count", "document"]
CellStatus = Literal["ok", "error"]


@dataclass(frozen=True)
class LedgerRecord:
    context: str | None
    seq: int | None
    code: str | None
    status: CellStatus | None
    defined: frozenset[str] | None  # None: the tracker did not record bindings
    deleted: frozenset[str]


@dataclass(frozen=True)
class Execution:
    position: int  # 0-based place in the replay order
    cell_id: CellId
    cell_index: int | None  # position in nb.cells; None when the cell is gone
    source: str | None  # current source; None when gone or no longer a code cell
    recorded_sha: str | None  # hash of the code as it ran, when known
    ledger: LedgerRecord | None

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


def cell_source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def cell_id(cell: Mapping[str, Any], index: int) -> CellId:
    # nbformat < 4.5 cells have no id; the position stands in for it.
    return CellId(str(cell.get("id") or f"#{index}"))


def _revive(meta: Any) -> Mapping[str, Any]:
    value = meta.get("revive") if isinstance(meta, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _names(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(v for v in value if isinstance(v, str))


def _ledger(cell: Mapping[str, Any], context: str | None) -> LedgerRecord | None:
    meta = _revive(cell.get("metadata"))
    if not meta:
        return None
    recorded_context = meta.get("context")
    if context is not None and recorded_context is not None and recorded_context != context:
        return None  # a run in an earlier kernel process says nothing about this one
    status = meta.get("status")
    seq = meta.get("seq")
    return LedgerRecord(
        context=recorded_context if isinstance(recorded_context, str) else None,
        seq=seq if isinstance(seq, int) else None,
        code=meta.get("code") if isinstance(meta.get("code"), str) else None,
        status=status if status in ("ok", "error") else None,
        defined=_names(meta.get("defined")),
        deleted=_names(meta.get("deleted")) or frozenset(),
    )


def read_history(nb: Mapping[str, Any]) -> History:
    # Lenient on structure: the server hands over whatever JSON the client posted.
    raw_cells = nb.get("cells")
    cells: Sequence[Mapping[str, Any]] = [
        cell if isinstance(cell, Mapping) else {}
        for cell in (raw_cells if isinstance(raw_cells, list) else [])
    ]
    meta = _revive(nb.get("metadata"))
    context = meta.get("context") if isinstance(meta.get("context"), str) else None
    by_id = {cell_id(cell, i): i for i, cell in enumerate(cells)}

    def code_source(index: int | None) -> str | None:
        if index is None or cells[index].get("cell_type") != "code":
            return None
        return cell_source(cells[index])

    raw = meta.get("history")
    if isinstance(raw, list):
        entries: list[tuple[CellId, str | None]] = []
        malformed = 0
        for entry in raw:
            if (
                isinstance(entry, (list, tuple))
                and len(entry) >= 1
                and isinstance(entry[0], str)
                and (len(entry) < 2 or entry[1] is None or isinstance(entry[1], str))
            ):
                entries.append((CellId(entry[0]), entry[1] if len(entry) > 1 else None))
            else:
                malformed += 1
        last_run = {cid: pos for pos, (cid, _) in enumerate(entries)}
        executions = []
        for pos, (cid, sha) in enumerate(entries):
            index = by_id.get(cid)
            ledger = None
            if index is not None and last_run[cid] == pos:
                ledger = _ledger(cells[index], context)
                if ledger is not None and sha is not None and ledger.code not in (None, sha):
                    ledger = None
            executions.append(Execution(pos, cid, index, code_source(index), sha, ledger))
        return History("history", context, tuple(executions), malformed)

    counted = [
        (cell["execution_count"], i)
        for i, cell in enumerate(cells)
        if cell.get("cell_type") == "code" and isinstance(cell.get("execution_count"), int)
    ]
    kind: HistorySource = "execution_count" if counted else "document"
    order = (
        [i for _, i in sorted(counted)]
        if counted
        else [i for i, cell in enumerate(cells) if cell.get("cell_type") == "code"]
    )
    executions = []
    for pos, index in enumerate(order):
        ledger = _ledger(cells[index], context)
        sha = ledger.code if ledger is not None else None
        cid = cell_id(cells[index], index)
        executions.append(Execution(pos, cid, index, code_source(index), sha, ledger))
    return History(kind, context, tuple(executions))
