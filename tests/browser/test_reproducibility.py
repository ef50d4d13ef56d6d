"""The reproducibility check in JupyterLab: a notebook run out of order gets a quiet notice on
save, with Show marking the cell; a clean one gets none."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .lab import LabServer, active_panel, open_notebook, run_all, run_cell, save, write_notebook


def test_saving_a_notebook_that_only_worked_out_of_order_says_so(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    write_notebook(lab, "order.ipynb", ["y = z * 2", "z = 21"])
    open_notebook(page, lab, "order.ipynb")
    run_cell(page, 1)  # z first
    run_cell(page, 0)  # then the cell above it, which needs z
    save(page)
    expect(active_panel(page)).to_have_attribute("data-revive-findings", "1", timeout=30_000)
    toast = page.locator(".Toastify__toast").filter(has_text="may not reproduce top to bottom")
    expect(toast).to_contain_text("Cell 1 used z, made by cell 2 below it", timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "reproducibility-notice.png"))
    toast.get_by_role("button", name="Show").click()
    first = active_panel(page).locator(".jp-Notebook .jp-Cell").first
    expect(first).to_have_class(re.compile("jp-revive-mod-finding"))
    page.screenshot(path=str(artifacts_dir / "reproducibility-show.png"))


def test_a_notebook_run_top_to_bottom_saves_without_a_notice(lab: LabServer, page: Page) -> None:
    write_notebook(lab, "clean.ipynb", ["z = 21", "y = z * 2"])
    open_notebook(page, lab, "clean.ipynb")
    run_all(page, 2)
    save(page)
    expect(active_panel(page)).to_have_attribute("data-revive-findings", "0", timeout=30_000)
    notice = page.locator(".Toastify__toast").filter(has_text="may not reproduce")
    expect(notice).to_have_count(0)
