"""The missing-variable guard's full answer: what generated code lacks and how to get it back."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..dataflow import plan_notebook
from .names import missing_names


def guard_report(
    code: str, live_names: Collection[str], notebook: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``{"missing": [...], "restorable": [...], "unrestorable": [...], "plan": {...} | None}``.

    ``missing`` are the names ``code`` reads that neither it, the builtins nor the kernel
    (``live_names``) provide. When ``notebook`` is given and some are missing, the dataflow
    planner says which notebook cells rebuild them (``plan`` is DESIGN.md's plan JSON), so the UI
    can offer "needs df, model — restore 3 cells first?"; names nothing defines are
    ``unrestorable`` and call for regenerating instead.
    """
    missing = missing_names(code, live_names)
    report: dict[str, Any] = {
        "missing": missing,
        "restorable": [],
        "unrestorable": list(missing),
        "plan": None,
    }
    if not missing or notebook is None:
        return report
    plan = plan_notebook(notebook, missing, set(live_names))
    report["restorable"] = list(plan.names)
    report["unrestorable"] = list(plan.unrestorable)
    report["plan"] = plan.to_json()
    return report
