"""The Kernel State view in a real JupyterLab (and Notebook 7): runs as nodes that follow the
kernel live, lost after a restart with the restore plan marked, a click selecting the cell, the
save check's Show marking its findings; light and dark screenshots."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .lab import (
    LabServer,
    active_panel,
    command,
    current_kernel_id,
    open_notebook,
    run_all,
    run_cell,
    save,
    wait_for_fresh_kernel,
    wait_idle,
    write_notebook,
    write_settings,
)

PIPELINE = [
    "import math\ndata = [math.sqrt(i) for i in range(10)]",  # 1
    "cleaned = [x for x in data if x > 1]",  # 2
    "print(len(cleaned))",  # 3: display only, never replayed
    "unrelated = 'not needed by anything'",  # 4
    "model = sum(cleaned) / len(cleaned)",  # 5
    "predictions = [model * x for x in cleaned]",  # 6
]

SHOW = "jupyter-revive:show-state"


def view(page: Page) -> Locator:
    return page.locator("#jp-revive-state-view")


def nodes(page: Page) -> Locator:
    return view(page).locator(".jp-revive-StateView-node")


def node_states(page: Page) -> list[str]:
    return nodes(page).evaluate_all("(ns) => ns.map(n => n.dataset.state)")


def expect_states(page: Page, state: str, count: int) -> None:
    expect(view(page)).to_have_attribute("data-revive-state", state, timeout=30_000)
    expect(nodes(page)).to_have_count(count, timeout=30_000)


def test_view_follows_runs_and_restart_and_a_click_selects_the_cell(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    write_settings(lab, {"onRestart": "never"})  # the view, not the dialog, tells
    write_notebook(lab, "state.ipynb", PIPELINE)
    open_notebook(page, lab, "state.ipynb")
    command(page, SHOW)
    expect(view(page)).to_be_visible()
    expect(view(page)).to_contain_text("No runs recorded yet", timeout=30_000)

    run_all(page, len(PIPELINE))
    expect_states(page, "live", len(PIPELINE))
    assert node_states(page) == ["live"] * len(PIPELINE)
    expect(view(page).locator(".jp-revive-StateView-gone")).to_have_text(
        "Live: the kernel holds what 6 runs made."
    )
    # Edges carry the names in their tooltips: cleaned flows from run 2 into run 5.
    titles = view(page).locator(".jp-revive-StateView-edge > title").all_text_contents()
    assert "run 2 → run 5: cleaned" in titles, titles
    page.screenshot(path=str(artifacts_dir / "state-view-live.png"))

    # One more run is one more node, without asking the view again.
    run_cell(page, 3)
    expect_states(page, "live", len(PIPELINE) + 1)

    kernel = current_kernel_id(page)
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Restart Kernel…").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Restart Kernel?")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    wait_for_fresh_kernel(lab, kernel, gone="model")
    expect(view(page)).to_have_attribute("data-revive-state", "lost", timeout=30_000)
    states = node_states(page)
    assert "live" not in states
    # The plan re-runs cells 1, 2, 4, 5, 6 (the print cell is not needed), each at its last run.
    rerun = nodes(page).and_(view(page).locator("[data-state=rerun]"))
    expect(rerun).to_have_count(5, timeout=30_000)
    assert {n.get_attribute("data-cell-id") for n in rerun.all()} == {
        cell_id(page, i) for i in (0, 1, 3, 4, 5)
    }
    gone = view(page).locator(".jp-revive-StateView-gone")
    expect(gone).to_contain_text("Gone: predictions, model, cleaned, data")
    expect(view(page).locator(".jp-revive-StateView-restore")).to_contain_text(
        re.compile(r"Restore: re-run 5 cells \(.+\)")
    )
    page.screenshot(path=str(artifacts_dir / "state-view-lost.png"))

    # A click on the model node selects cell 5 and scrolls the notebook to it.
    command(page, "notebook:move-cursor-up")  # somewhere else first
    model = nodes(page).filter(has_text="model = sum(")
    model.click()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex === 4"
    )
    expect(active_panel(page).locator(".jp-Notebook .jp-Cell").nth(4)).to_be_in_viewport()

    # A restore from the command: the nodes turn live again.
    command(page, "jupyter-revive:restore")
    expect(view(page)).to_have_attribute("data-revive-state", "live", timeout=60_000)
    wait_idle(page)

    command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "state-view-live-dark.png"))


def cell_id(page: Page, index: int) -> str:
    return page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.id", index
    )


def test_lost_state_after_a_server_restart_in_the_dark_theme(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    write_settings(lab, {"onOpen": "never"})
    write_notebook(lab, "reopen.ipynb", PIPELINE)
    open_notebook(page, lab, "reopen.ipynb")
    run_all(page, len(PIPELINE))
    save(page)
    lab.restart()
    open_notebook(page, lab, "reopen.ipynb")
    command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=30_000)
    command(page, SHOW)
    expect_states(page, "lost", len(PIPELINE))
    expect(nodes(page).and_(view(page).locator("[data-state=rerun]"))).to_have_count(5)
    expect(nodes(page).and_(view(page).locator("[data-state=lost]"))).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "state-view-lost-dark.png"))


def test_show_in_the_save_notice_marks_the_findings_in_the_view(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    write_notebook(lab, "order.ipynb", ["y = z * 2", "z = 21"])
    open_notebook(page, lab, "order.ipynb")
    run_cell(page, 1)  # z first
    run_cell(page, 0)  # then the cell above it, which needs z
    save(page)
    toast = page.locator(".Toastify__toast").filter(has_text="may not reproduce top to bottom")
    toast.get_by_role("button", name="Show").click()
    expect(view(page)).to_be_visible(timeout=30_000)
    marked = view(page).locator(".jp-revive-StateView-node[data-finding]")
    expect(marked).to_have_count(1, timeout=30_000)
    expect(marked).to_have_attribute("data-cell-id", cell_id(page, 0))
    assert "used z, made by cell 2 below it" in (marked.locator("title").text_content() or "")
    page.screenshot(path=str(artifacts_dir / "state-view-finding.png"))


def test_view_in_jupyter_notebook_7(lab: LabServer, page: Page, artifacts_dir: Path) -> None:
    write_settings(lab, {"onOpen": "never"})
    write_notebook(lab, "nb7.ipynb", PIPELINE[:2])
    open_notebook(page, lab, "nb7.ipynb")
    run_all(page, 2)
    save(page)
    lab.restart()
    page.goto(f"{lab.url}/notebooks/nb7.ipynb?token={lab.token}")
    page.wait_for_function(
        "() => !!document.querySelector('.jp-NotebookPanel')"
        " && !!document.querySelector('.jp-NotebookPanel').dataset.reviveVerdict",
        timeout=60_000,
    )
    # Notebook 7 exposes no app object to scripts: through its View menu, as a user would.
    page.get_by_role("menuitem", name="View", exact=True).click()
    page.get_by_role("menuitem", name="Show Kernel State").click()
    expect(view(page)).to_be_visible(timeout=30_000)
    expect_states(page, "lost", 2)
    expect(nodes(page).and_(view(page).locator("[data-state=rerun]"))).to_have_count(2)
    page.screenshot(path=str(artifacts_dir / "notebook7-state-view.png"))
