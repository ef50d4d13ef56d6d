"""Builders for the notebooks and variables summaries that prompt tests feed the builder."""

from __future__ import annotations

from typing import Any

import nbformat


def make_notebook(
    sources: list[str],
    *,
    counts: list[int | None] | None = None,
    outputs: list[list[Any]] | None = None,
    history: list[list[str]] | None = None,
    context: str | None = None,
    prompt_at: int | None = None,
    prompt: str = "do something",
) -> dict[str, Any]:
    """An nbformat 4.5 notebook dict with code cells ``sources`` (ids ``c0``, ``c1``…) and
    optionally a prompt cell (markdown, id ``prompt``) inserted at ``prompt_at``."""
    nb = nbformat.v4.new_notebook()
    cells = []
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src, id=f"c{i}")
        if counts is not None:
            cell.execution_count = counts[i]
        if outputs is not None:
            cell.outputs = [nbformat.from_dict(o) for o in outputs[i]]
        cells.append(cell)
    if prompt_at is not None:
        cells.insert(
            prompt_at,
            nbformat.v4.new_markdown_cell(
                prompt, id="prompt", metadata={"revive": {"prompt": True}}
            ),
        )
    nb.cells = cells
    revive: dict[str, Any] = {}
    if history is not None:
        revive["history"] = history
    if context is not None:
        revive["context"] = context
    if revive:
        nb.metadata["revive"] = revive
    return nb


def variables(*entries: dict[str, Any], context: str = "ctx-live", **extra: Any) -> dict[str, Any]:
    """A tracker-shaped variables summary."""
    return {
        "context": context,
        "variables": list(entries),
        "total": extra.pop("total", len(entries)),
        "truncated": extra.pop("truncated", False),
        **extra,
    }
