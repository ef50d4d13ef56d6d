"""Earlier cells of the notebook, in execution order, rendered newest-first into a budget.

Order, best source first: ``metadata.revive.history`` (what really ran, in order), then
``execution_count``, then document order above the prompt cell. Work is proportional to what
fits in the budget, not to the notebook's size: a notebook of thousands of cells with megabytes of
output costs one pass over the cell list plus the rendering of the cells that are shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..contract import (
    Order,
    cell_source,
    code_sha,
    counted_order,
    document_order,
    generated_for,
    history_entries,
    is_code_cell,
    notebook_cells,
    prompt_link,
)
from .clip import clip, join_bounded, strip_ansi
from .secrets import redact


@dataclass(frozen=True)
class CellRun:
    index: int  # position in nb.cells
    cell: Mapping[str, Any]
    recorded_sha: str | None = None  # the code sha the history recorded for this run


@dataclass
class RenderedCells:
    text: str
    order: Order
    shown: int
    omitted: int


def execution_order(
    nb: Mapping[str, Any], prompt_cell_id: str | None
) -> tuple[list[CellRun], Order]:
    """The code cells that ran before this prompt, oldest first, and which evidence gave the order.

    A cell run several times appears once, at its latest run: the notebook only holds its current
    code, and showing it twice would spend the budget on repetition.
    """
    cells = notebook_cells(nb)
    by_id: dict[str, int] = {}
    prompt_index: int | None = None
    for i, cell in enumerate(cells):
        if isinstance(cell.get("id"), str):
            by_id[cell["id"]] = i
            if cell["id"] == prompt_cell_id:
                prompt_index = i
    link = prompt_link(cells[prompt_index]) if prompt_index is not None else None

    def usable(i: int) -> bool:
        cell = cells[i]
        return (
            is_code_cell(cell)
            and i != prompt_index
            and not generated_for(cell, prompt_cell_id, link)
        )

    recorded = history_entries(nb)
    if recorded is not None:
        seen: set[int] = set()
        runs: list[CellRun] = []
        for entry in reversed(recorded[0]):
            at = by_id.get(entry.cell_id)
            if at is None or at in seen or not usable(at):
                continue
            seen.add(at)
            runs.append(CellRun(at, cells[at], entry.sha))
        if runs:
            runs.reverse()
            return runs, "history"

    counted = counted_order(cells, usable)
    if counted:
        return [CellRun(i, cells[i]) for i in counted], "execution_count"

    end = prompt_index if prompt_index is not None else len(cells)
    listed = document_order(cells, lambda i: usable(i) and bool(cell_source(cells[i]).strip()), end)
    return [CellRun(i, cells[i]) for i in listed], "document"


def _bounded(text: Any, limit: int) -> str:
    return join_bounded(text, limit)[0] if isinstance(text, list) else str(text)[: limit * 2]


def _output_text(output: Mapping[str, Any], limit: int) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _bounded(output.get("text", ""), limit)
    if kind in ("execute_result", "display_data"):
        data = output.get("data")
        if not isinstance(data, Mapping):
            return ""
        plain = data.get("text/plain")
        if plain is not None:
            return _bounded(plain, limit)
        rich = [k for k in data if isinstance(k, str)]
        return f"[{', '.join(rich[:4])} output]" if rich else ""
    if kind == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    return ""


def render_outputs(cell: Mapping[str, Any], limit: int) -> str:
    outputs = cell.get("outputs")
    if not isinstance(outputs, Sequence) or not outputs or limit <= 0:
        return ""
    parts: list[str] = []
    size = 0
    for output in outputs:
        if not isinstance(output, Mapping):
            continue
        if size > limit:
            parts.append(f"[{len(outputs) - len(parts)} more outputs]")
            break
        text = strip_ansi(_output_text(output, limit)).rstrip("\n")
        if text:
            parts.append(text)
            size += len(text) + 1
    return redact(clip("\n".join(parts), limit))


def _label(run: CellRun) -> str:
    count = run.cell.get("execution_count")
    label = f"# In[{count}]" if isinstance(count, int) else "# In[ ]"
    return f"{label} (cell {run.index + 1})"


def render_cell(run: CellRun, *, cell_chars: int, output_chars: int) -> str:
    source = cell_source(run.cell)
    label = _label(run)
    if run.recorded_sha is not None and code_sha(source) != run.recorded_sha:
        # The DESIGN forbids pretending edited code is what ran.
        label += " (edited since it ran: the code below is not what the kernel executed)"
    block = f"{label}\n{redact(clip(source.rstrip(), cell_chars))}"
    out = render_outputs(run.cell, output_chars)
    if out:
        block += f"\n# Out:\n{out}"
    return block


def render_cells(
    runs: Sequence[CellRun],
    order: Order,
    *,
    total: int,
    cell_chars: int,
    output_chars: int,
) -> RenderedCells:
    """Newest runs first until ``total`` characters are used; older ones are dropped and counted."""
    blocks: list[str] = []
    size = 0
    for run in reversed(runs):
        block = render_cell(run, cell_chars=cell_chars, output_chars=output_chars)
        # Reserve room for the omission note so the result stays within ``total``.
        if size + len(block) + 2 > total - 80:
            break
        blocks.append(block)
        size += len(block) + 2
    omitted = len(runs) - len(blocks)
    blocks.reverse()
    if omitted:
        blocks.insert(0, f"[{omitted} earlier cell runs left out to fit the context budget]")
    text = "\n\n".join(blocks) if blocks else "(no cells have run)"
    return RenderedCells(text=text, order=order, shown=len(runs) - omitted, omitted=omitted)


def render_last_error(runs: Sequence[CellRun], limit: int) -> str:
    """The most recent error output among ``runs``: name, message and traceback tail."""
    for run in reversed(runs):
        outputs = run.cell.get("outputs")
        if not isinstance(outputs, Sequence):
            continue
        for output in reversed(outputs):
            if isinstance(output, Mapping) and output.get("output_type") == "error":
                head = (
                    f"{_label(run)[2:]} raised {output.get('ename', 'Error')}: "
                    f"{output.get('evalue', '')}"
                )
                tb = output.get("traceback")
                frames = (
                    [strip_ansi(t) for t in tb[-12:] if isinstance(t, str)]
                    if isinstance(tb, list)
                    else []
                )
                text = head + ("\nTraceback (last frames):\n" + "\n".join(frames) if frames else "")
                # The end of a traceback names the failing line: keep it when cutting.
                return redact(clip(text, limit))
    return "(none)"
