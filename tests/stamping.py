"""What the frontend's MetadataStamper (src/stamping.ts) does with execute replies.

Tests that record notebooks from real kernels stamp them here, so the planner is checked
against the metadata a JupyterLab session would have saved, not against a hand-made history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import nbformat

# The run-record keys the frontend copies into a cell's metadata.revive; the observed ones only
# when the tracker sent them.
CELL_KEYS = ("context", "seq", "code", "status", "ms", "defined", "deleted")
OBSERVED_KEYS = ("mutated", "unchanged", "files", "env")


def stamp(nb: nbformat.NotebookNode, replies: Iterable[Mapping[str, Any]]) -> None:
    """Apply each reply's ``metadata.revive`` record to ``nb``, in order.

    As the frontend does: replies without a record, or for a cell the notebook does not hold,
    change nothing; a cell keeps keys others own (prompt provenance) beside its record; the
    history restarts when the context (the kernel process) changes.
    """
    for reply in replies:
        record = (reply.get("metadata") or {}).get("revive")
        if not isinstance(record, Mapping) or not record.get("cell") or not record.get("context"):
            continue
        cell = next((c for c in nb.cells if c.get("id") == record["cell"]), None)
        if cell is None:
            continue
        owned = (*CELL_KEYS, *OBSERVED_KEYS)  # the last run's record goes whole
        kept = {k: v for k, v in cell.metadata.get("revive", {}).items() if k not in owned}
        cell.metadata["revive"] = {
            **kept,
            **{k: record[k] for k in CELL_KEYS},
            **{k: record[k] for k in OBSERVED_KEYS if record.get(k) is not None},
        }
        previous = nb.metadata.get("revive", {})
        same = previous.get("context") == record["context"] and "history" in previous
        history = [*previous["history"]] if same else []
        history.append([record["cell"], record["code"]])
        nb.metadata["revive"] = {
            **({"lost": previous["lost"]} if "lost" in previous else {}),
            "context": record["context"],
            "history": history,
        }
