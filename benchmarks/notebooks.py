"""Notebooks the browser benchmarks open: recorded in a kernel context that no longer exists."""

from __future__ import annotations

import hashlib
import uuid

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tests.browser.lab import KERNELSPEC


def stale_notebook(sources: list[str]) -> nbformat.NotebookNode:
    """Recorded in a context that no longer exists, one run per cell, top to bottom."""
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": KERNELSPEC}
    )
    context = str(uuid.uuid4())
    history = []
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
        sha = hashlib.sha256(cell.source.encode()).hexdigest()[:16]
        # Sources are `name = ...`, `print(...)` (defines nothing) or `import module`.
        if cell.source.startswith("import "):
            defined = [cell.source.split()[1]]
        elif cell.source.startswith("print"):
            defined = []
        else:
            defined = [cell.source.split(" =")[0]]
        cell.metadata["revive"] = {
            "context": context,
            "seq": i + 1,
            "code": sha,
            "status": "ok",
            "ms": 1,
            "defined": defined,
            "deleted": [],
        }
        cell.execution_count = i + 1
        history.append([cell.id, sha])
    nb.metadata["revive"] = {"context": context, "history": history}
    nbformat.validate(nb)
    return nb
