"""The builder fed with what the real in-kernel tracker produces (run in-process here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import summaries as tracker
from jupyter_revive.prompts import ReviveContextBuilder

from .notebooks import make_notebook

KEY = "sk-ant-api03-" + "Q" * 40


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.random((200_000, 30)), columns=[f"m{i}" for i in range(30)])
    df["region"] = "north"
    return df


def summary_of(**values: object) -> dict[str, object]:
    entries = [tracker.summarize(name, value) for name, value in values.items()]
    return {"context": "ctx", "variables": entries, "total": len(entries), "truncated": False}


def test_real_summaries_render_with_shape_columns_and_without_secrets(frame):
    summary = summary_of(df=frame, api_key=KEY, xs=list(range(1_000)), note=f"uses {KEY}")
    ctx = ReviveContextBuilder().build("plot m0 by region", make_notebook([]), variables=summary)
    text = ctx.messages[0]["content"]
    line = next(line for line in text.splitlines() if line.startswith("- df:"))
    assert "shape (200000, 31)" in line and "m0 float64" in line
    assert "- xs: list, len 1000" in text
    assert KEY not in text and "api_key" not in text


def test_detail_answer_of_the_tracker_is_used_for_mentions(frame):
    details = {"context": "ctx", "variables": [tracker.summarize("df", frame, detail=True)]}
    ctx = ReviveContextBuilder().build(
        "plot @df", make_notebook([]), variables=summary_of(df=frame), details=details
    )
    section = ctx.messages[0]["content"].split("mentioned with @")[1]
    assert "@df:\n- df:" in section and "head(5):" in section and "describe" in section
