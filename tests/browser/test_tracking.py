"""Seed cases of the foundation, in a real JupyterLab in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect

from .lab import (
    LabServer,
    command,
    current_kernel_id,
    notebook_metadata,
    open_notebook,
    run_all,
    save,
    wait_idle,
    write_notebook,
)

PIPELINE = [
    "import math\ndf = [1, 2, 3, None]",
    "cleaned_df = [x for x in df if x is not None]",
    "model = sum(cleaned_df) / len(cleaned_df)",
    "predictions = [model * x for x in cleaned_df]\npredictions",
]


def _panel(page: Page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first


def test_run_stamps_metadata_and_saved_notebook_is_valid(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    path = write_notebook(lab, "pipeline.ipynb", PIPELINE)
    open_notebook(page, lab, "pipeline.ipynb")
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "fresh")
    run_all(page, len(PIPELINE))
    save(page)
    # Show the stamped metadata in the screenshot: the notebook metadata editor.
    page.screenshot(path=str(artifacts_dir / "foundation-stamped-notebook.png"))

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kernel_context = lab.api("GET", f"/jupyter-revive/kernels/{current_kernel_id(page)}/context")
    context = kernel_context["context"]
    assert nb.metadata.revive["context"] == context
    ids = [c.id for c in nb.cells]
    assert [entry[0] for entry in nb.metadata.revive["history"]] == ids
    for cell, defined in zip(
        nb.cells, (["df", "math"], ["cleaned_df"], ["model"], ["predictions"]), strict=True
    ):
        record = cell.metadata.revive
        assert record["context"] == context
        assert record["status"] == "ok"
        assert sorted(record["defined"]) == defined
        assert isinstance(record["ms"], (int, float))
    assert [e["cell"] for e in kernel_context["executions"]] == ids
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "live")


def test_page_reload_keeps_kernel_and_context(lab: LabServer, page: Page) -> None:
    write_notebook(lab, "reload.ipynb", PIPELINE)
    open_notebook(page, lab, "reload.ipynb")
    run_all(page, len(PIPELINE))
    save(page)
    kernel_before = current_kernel_id(page)
    context_before = notebook_metadata(page)["metadata"]["revive"]["context"]

    page.reload()
    open_notebook(page, lab, "reload.ipynb")
    assert current_kernel_id(page) == kernel_before
    answer = lab.api("GET", f"/jupyter-revive/kernels/{kernel_before}/context")
    assert answer["context"] == context_before
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "live")


def test_server_restart_makes_recorded_context_stale(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    path = write_notebook(lab, "restart.ipynb", PIPELINE)
    open_notebook(page, lab, "restart.ipynb")
    run_all(page, len(PIPELINE))
    save(page)
    recorded = nbformat.read(path, as_version=4).metadata.revive["context"]

    lab.restart()
    open_notebook(page, lab, "restart.ipynb")
    new_context = lab.api("GET", f"/jupyter-revive/kernels/{current_kernel_id(page)}/context")
    assert new_context["context"] != recorded
    assert new_context["executions"] == []
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "stale")
    page.screenshot(path=str(artifacts_dir / "foundation-after-server-restart.png"))


def test_kernel_restart_through_ui_records_new_context(lab: LabServer, page: Page) -> None:
    write_notebook(lab, "kernel-restart.ipynb", PIPELINE)
    open_notebook(page, lab, "kernel-restart.ipynb")
    run_all(page, len(PIPELINE))
    first = notebook_metadata(page)["metadata"]["revive"]["context"]

    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Restart Kernel…").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Restart Kernel?")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "stale", timeout=30_000)
    wait_idle(page)

    command(page, "notebook:run-cell")  # runs the active (first) cell in the new kernel
    page.wait_for_function(
        """(first) => {
            const md = window.jupyterapp.shell.currentWidget.context.model.getMetadata('revive');
            return md && md.context !== first;
        }""",
        arg=first,
        timeout=30_000,
    )
    record = notebook_metadata(page)["metadata"]["revive"]
    assert record["context"] != first
    assert len(record["history"]) == 1
    expect(_panel(page)).to_have_attribute("data-revive-verdict", "live")


def test_two_notebooks_with_same_names_do_not_interfere(lab: LabServer, page: Page) -> None:
    write_notebook(lab, "a.ipynb", ["x = 'from a'"])
    write_notebook(lab, "b.ipynb", ["x = 'from b'"])
    open_notebook(page, lab, "a.ipynb")
    run_all(page, 1)
    kernel_a = current_kernel_id(page)
    open_notebook(page, lab, "b.ipynb")
    run_all(page, 1)
    kernel_b = current_kernel_id(page)

    assert kernel_a != kernel_b
    ctx_a = lab.api("GET", f"/jupyter-revive/kernels/{kernel_a}/context")
    ctx_b = lab.api("GET", f"/jupyter-revive/kernels/{kernel_b}/context")
    assert ctx_a["context"] != ctx_b["context"]
    vars_a = lab.api("GET", f"/jupyter-revive/kernels/{kernel_a}/variables")
    vars_b = lab.api("GET", f"/jupyter-revive/kernels/{kernel_b}/variables")
    (xa,) = [v for v in vars_a["variables"] if v["name"] == "x"]
    (xb,) = [v for v in vars_b["variables"] if v["name"] == "x"]
    assert "from a" in xa["repr"]
    assert "from b" in xb["repr"]


def test_demo_notebook_runs_and_records_every_cell(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.ipynb"
    (lab.root / "demo.ipynb").write_bytes(demo.read_bytes())
    open_notebook(page, lab, "demo.ipynb")
    code_cells = [c for c in nbformat.read(demo, as_version=4).cells if c.cell_type == "code"]
    run_all(page, len(code_cells))
    save(page)
    page.screenshot(path=str(artifacts_dir / "demo-notebook.png"))
    nb = nbformat.read(lab.root / "demo.ipynb", as_version=4)
    nbformat.validate(nb)
    records = [c.metadata["revive"] for c in nb.cells if c.cell_type == "code"]
    assert all(r["status"] == "ok" for r in records)
    assert {"df", "cleaned_df", "model", "predictions"} <= {
        n for r in records for n in r["defined"]
    }
    assert len(nb.metadata.revive["history"]) == len(code_cells)
