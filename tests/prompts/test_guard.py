"""The guard's answer for generated code after a restart: what is gone, and what brings it back."""

from __future__ import annotations

from jupyter_revive.prompts import guard_report

from .notebooks import make_notebook

CODE = "import matplotlib.pyplot as plt\nplt.plot(predictions, actual)\nprint(ghost)"


def test_nothing_missing_means_nothing_to_plan():
    report = guard_report(CODE, {"predictions", "actual", "ghost"}, make_notebook([]))
    assert report == {"missing": [], "restorable": [], "unrestorable": [], "plan": None}


def test_without_a_notebook_every_missing_name_is_unrestorable():
    report = guard_report(CODE, set())
    assert report["missing"] == ["actual", "ghost", "predictions"]
    assert report["unrestorable"] == report["missing"] and report["plan"] is None


def test_the_planner_says_which_cells_rebuild_the_missing_names():
    nb = make_notebook(
        ["import numpy as np\nactual = np.arange(5)", "predictions = actual * 2", "other = 1"],
        counts=[1, 2, 3],
    )
    report = guard_report(CODE, set(), nb)
    assert report["missing"] == ["actual", "ghost", "predictions"]
    assert report["restorable"] == ["predictions", "actual"]  # the plan's order: products first
    assert report["unrestorable"] == ["ghost"]
    assert [cell["id"] for cell in report["plan"]["cells"]] == ["c0", "c1"]
