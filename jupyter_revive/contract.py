"""The one reader of the notebook contract: ``metadata.revive`` of a notebook and of its cells.

DESIGN.md's contract: the notebook's ``metadata.revive`` holds the kernel ``context`` and the
``history`` of executions (``[cell id, code sha]`` pairs, repeats included); a code cell's
``metadata.revive`` holds the run record of its last execution (``context``, ``seq``, ``code``,
``status``, ``defined``, ``deleted``, ...) and, for prompt cells and generated cells, their link
(``prompt.id``, ``generated.prompt``). Every server module (dataflow, prompts, handlers, cli)
reads the contract through here, leniently: what the client posts is whatever JSON it holds.

``code_sha`` is the tracker's (it writes the hashes this module compares against).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NewType

from .kernel_manager.jupyter_revive_tracker.records import code_sha

__all__ = [
    "CellId",
    "HistoryEntry",
    "Order",
    "RunRecord",
    "cell_id",
    "cell_revive",
    "cell_source",
    "code_sha",
    "counted_order",
    "document_order",
    "generated_for",
    "history_entries",
    "is_code_cell",
    "notebook_cells",
    "notebook_context",
    "notebook_identity",
    "prompt_link",
    "run_record",
]

CellId = NewType("CellId", str)
Order = Literal["history", "execution_count", "document"]
CellStatus = Literal["ok", "error"]
_MAPPINGS = (dict, Mapping)  # dict first: it is what notebooks are, and it is checked fastest


@dataclass(frozen=True)
class HistoryEntry:
    cell_id: CellId
    sha: str | None  # the code's hash as it ran; None in entries that did not record it


@dataclass(frozen=True)
class RunRecord:
    """A cell's ``metadata.revive``: what the tracker observed at the cell's last run."""

    context: str | None
    seq: int | None
    code: str | None
    status: CellStatus | None
    defined: frozenset[str] | None  # None: the tracker did not record bindings
    deleted: frozenset[str]
    mutated: frozenset[str] | None = None  # None: the tracker did not watch in-place changes
    unchanged: frozenset[str] = frozenset()  # fingerprinted whole, and equal after the run
    files_read: frozenset[str] = frozenset()  # as recorded: relative to the notebook, ~/, absolute
    files_changed: frozenset[str] = frozenset()  # written, created, removed or renamed
    files_listed: frozenset[str] = frozenset()  # folders listed ("." the notebook's own)
    env_vars: frozenset[str] = frozenset()  # environment variable names set or removed
    options: frozenset[str] = frozenset()  # settings changed ("pandas:display.width")
    classes: frozenset[str] = frozenset()  # library classes changed in place ("pandas.DataFrame")
    random: frozenset[str] = frozenset()  # global generators drawn from ("numpy.random", "random")
    cwd_changed: bool = False
    ms: float | None = None  # how long the run took


def _revive(meta: Any) -> Mapping[str, Any]:
    return _mapping(meta.get("revive")) if isinstance(meta, _MAPPINGS) else {}


def notebook_cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cells, with anything that is not a mapping read as an empty cell (keeps positions)."""
    raw = nb.get("cells")
    if not isinstance(raw, list):
        return []
    return [cell if isinstance(cell, _MAPPINGS) else {} for cell in raw]


def notebook_context(nb: Mapping[str, Any]) -> str | None:
    """The context id of the kernel the notebook last ran in, if it recorded one."""
    context = _revive(nb.get("metadata")).get("context")
    return context if isinstance(context, str) else None


def notebook_identity(nb: Mapping[str, Any]) -> str | None:
    """The notebook's stable identity (``metadata.revive.notebook``), which keys its checkpoints."""
    value = _revive(nb.get("metadata")).get("notebook")
    return value if isinstance(value, str) and value else None


def cell_revive(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cell's ``metadata.revive`` (empty when absent or malformed)."""
    return _revive(cell.get("metadata"))


def cell_source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def cell_id(cell: Mapping[str, Any], index: int) -> CellId:
    # nbformat < 4.5 cells have no id; the position stands in for it.
    return CellId(str(cell.get("id") or f"#{index}"))


def is_code_cell(cell: Any) -> bool:
    return isinstance(cell, _MAPPINGS) and cell.get("cell_type") == "code"


def history_entries(nb: Mapping[str, Any]) -> tuple[list[HistoryEntry], int] | None:
    """``metadata.revive.history`` as entries, and how many entries were malformed.

    None when the notebook records no history (then execution counts are the best evidence).
    """
    raw = _revive(nb.get("metadata")).get("history")
    if not isinstance(raw, list):
        return None
    entries: list[HistoryEntry] = []
    malformed = 0
    for entry in raw:
        if (
            isinstance(entry, (list, tuple))
            and len(entry) >= 1
            and isinstance(entry[0], str)
            and (len(entry) < 2 or entry[1] is None or isinstance(entry[1], str))
        ):
            entries.append(HistoryEntry(CellId(entry[0]), entry[1] if len(entry) > 1 else None))
        else:
            malformed += 1
    return entries, malformed


def counted_order(
    cells: Sequence[Any], usable: Callable[[int], bool] = lambda _: True
) -> list[int]:
    """Indices of the code cells with an execution count, in the order of their counts."""
    counted = [
        (cell["execution_count"], i)
        for i, cell in enumerate(cells)
        if is_code_cell(cell) and isinstance(cell.get("execution_count"), int) and usable(i)
    ]
    return [i for _, i in sorted(counted)]


def document_order(
    cells: Sequence[Any], usable: Callable[[int], bool] = lambda _: True, end: int | None = None
) -> list[int]:
    """Indices of the code cells in document order (up to ``end``)."""
    stop = len(cells) if end is None else end
    return [i for i in range(stop) if is_code_cell(cells[i]) and usable(i)]


def _names(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(v for v in value if isinstance(v, str))


def run_record(cell: Mapping[str, Any], context: str | None) -> RunRecord | None:
    """The cell's run record, unless it is absent or from another kernel process than
    ``context`` (a run in an earlier process says nothing about this one)."""
    meta = cell_revive(cell)
    if not meta:
        return None
    recorded_context = meta.get("context")
    if context is not None and recorded_context is not None and recorded_context != context:
        return None
    status = meta.get("status")
    seq = meta.get("seq")
    code = meta.get("code")
    files = _mapping(meta.get("files"))
    env = _mapping(meta.get("env"))
    return RunRecord(
        context=recorded_context if isinstance(recorded_context, str) else None,
        seq=seq if isinstance(seq, int) else None,
        code=code if isinstance(code, str) else None,
        status=status if status in ("ok", "error") else None,
        defined=_names(meta.get("defined")),
        deleted=_names(meta.get("deleted")) or frozenset(),
        mutated=_names(meta.get("mutated")),
        unchanged=_names(meta.get("unchanged")) or frozenset(),
        files_read=_field(files, "read"),
        files_changed=_field(files, "written") | _field(files, "removed"),
        files_listed=_field(files, "listed"),
        env_vars=_field(env, "vars"),
        options=_field(env, "options"),
        classes=_field(env, "classes"),
        random=_field(env, "random"),
        cwd_changed=env.get("cwd") is True,
        ms=_duration(meta.get("ms")),
    )


def _duration(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return None  # not a count of milliseconds (NaN fails the comparison too)
    return float(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, _MAPPINGS) else {}


def _field(record: Mapping[str, Any], key: str) -> frozenset[str]:
    return _names(record.get(key)) or frozenset()


def prompt_link(cell: Mapping[str, Any]) -> str | None:
    """The id a prompt cell carries in ``metadata.revive.prompt.id`` (the frontend's link key)."""
    prompt = cell_revive(cell).get("prompt")
    value = prompt.get("id") if isinstance(prompt, _MAPPINGS) else None
    return value if isinstance(value, str) else None


def generated_for(cell: Mapping[str, Any], prompt_cell_id: str | None, link: str | None) -> bool:
    """Whether ``cell`` holds the code generated earlier for this prompt (a regenerate).

    The frontend links a generated cell by ``metadata.revive.generated.prompt`` = the prompt's
    ``prompt.id``; ``prompt_id`` = the prompt cell's id is also accepted.
    """
    revive = cell_revive(cell)
    if prompt_cell_id and revive.get("prompt_id") == prompt_cell_id:
        return True
    generated = revive.get("generated")
    return link is not None and isinstance(generated, _MAPPINGS) and generated.get("prompt") == link
