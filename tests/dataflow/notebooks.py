"""Builders for notebooks used as planner fixtures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from jupyter_revive.dataflow import code_sha

CONTEXT = "0f8c2c1e-2d2b-4c55-9d3a-6b1f2f6f7a10"


def notebook(
    cells: Sequence[str],
    order: Sequence[int] | None = None,
    *,
    ledger: Mapping[int, Mapping[str, Any]] | None = None,
    counts: Sequence[int | None] | None = None,
    markdown: Sequence[int] = (),
) -> nbformat.NotebookNode:
    """A notebook of code cells `c0, c1, …`; `order` becomes `metadata.revive.history`.

    `ledger` maps a cell position to the `metadata.revive` keys of its last run.
    """
    nb = new_notebook(
        cells=[
            new_markdown_cell(src) if i in markdown else new_code_cell(src)
            for i, src in enumerate(cells)
        ]
    )
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i}"
        if counts is not None and cell.cell_type == "code":
            cell.execution_count = counts[i]
    if order is not None:
        nb.metadata["revive"] = {
            "context": CONTEXT,
            "history": [[f"c{i}", code_sha(cells[i])] for i in order],
        }
    for i, record in (ledger or {}).items():
        nb.cells[i].metadata["revive"] = {
            "context": CONTEXT,
            "code": code_sha(cells[i]),
            "status": "ok",
            **record,
        }
    return nb
