"""Stale banner, recovery dialog and restore, in a real JupyterLab in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page, expect

from .lab import (
    LabServer,
    active_panel,
    append_and_run,
    banner,
    command,
    current_kernel_id,
    open_notebook,
    run_all,
    run_cell,
    save,
    wait_for_fresh_kernel,
    wait_for_names,
    wait_idle,
    write_notebook,
    write_settings,
)

SEED = [
    "import time\ndf = list(range(10))",  # 1
    "cleaned_df = [x for x in df if x % 2 == 0]",  # 2
    "print(len(cleaned_df))",  # 3: display only, never replayed
    "unrelated = 'not needed by anything'",  # 4
    "time.sleep(1.5)\nmodel = sum(cleaned_df) / len(cleaned_df)",  # 5: slow, to see progress
    "predictions = [model * x for x in cleaned_df]",  # 6
]
LOST = {"df", "cleaned_df", "unrelated", "model", "predictions", "time"}
# The visible banner's height against a bound, polled in the page: the banner fits itself to
# its content in an animation frame after each render.
BANNER = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-revive-Banner"
_HEIGHT = (
    "([selector, bound]) => {{ const node = document.querySelector(selector); "
    "return !!node && node.offsetParent !== null && "
    "node.getBoundingClientRect().height {} bound; }}"
)
height_above, height_below = _HEIGHT.format(">"), _HEIGHT.format("<")


def _run_and_save(lab: LabServer, page: Page, name: str, sources: list[str]) -> Path:
    path = write_notebook(lab, name, sources)
    open_notebook(page, lab, name)
    run_all(page, len(sources))
    save(page)
    return path


def _reopen_after_server_restart(lab: LabServer, page: Page, name: str) -> Locator:
    """Restart the server (the kernel and its state are gone), reopen, return the banner."""
    lab.restart()
    open_notebook(page, lab, name)
    bar = banner(page)
    expect(bar).to_be_visible(timeout=30_000)
    return bar


def test_seed_scenario_server_restart_banner_restore(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    _run_and_save(lab, page, "seed.ipynb", SEED)
    lab.restart()
    open_notebook(page, lab, "seed.ipynb")

    bar = banner(page)
    expect(bar).to_be_visible(timeout=30_000)
    expect(bar).to_contain_text("Kernel state was lost")
    expect(bar).to_contain_text(
        "Kernel state was lost: predictions, model, cleaned_df, df, unrelated (+1 module) "
        "came from 5 cells"
    )
    expect(bar.locator("button[data-action=restore]")).to_have_text("Restore (5 cells)")
    box = bar.bounding_box()
    assert box is not None and box["height"] >= 30
    collapsed = box["height"]
    page.screenshot(path=str(artifacts_dir / "banner-collapsed.png"))

    toggle = bar.locator("button[data-action=details]")
    toggle.click()
    details = bar.locator(".jp-revive-Banner-details")
    expect(details).to_be_visible()
    expect(details).to_contain_text("model")
    expect(details).to_contain_text("predictions")
    expect(details).not_to_contain_text("Cell 3:")  # the print cell is not needed
    page.wait_for_function(height_above, arg=[BANNER, collapsed + 40])
    opened = bar.bounding_box()
    assert opened is not None
    # Hiding the details gives the space back; showing them again takes it.
    toggle.click()
    page.wait_for_function(height_below, arg=[BANNER, collapsed + 2])
    toggle.click()
    page.wait_for_function(height_above, arg=[BANNER, opened["height"] - 2])
    page.screenshot(path=str(artifacts_dir / "banner-details.png"))

    bar.locator("button[data-action=restore]").click()
    expect(bar).to_contain_text("Restoring kernel state", timeout=10_000)
    # One line while restoring: the details' height is not kept.
    page.wait_for_function(height_below, arg=[BANNER, opened["height"] - 40])
    page.screenshot(path=str(artifacts_dir / "banner-progress.png"))
    expect(bar).to_be_hidden(timeout=60_000)
    wait_idle(page)

    kernel = current_kernel_id(page)
    wait_for_names(lab, kernel, LOST)
    # The next cell that uses `predictions` runs instead of raising NameError.
    output = append_and_run(page, "assert predictions[-1] == model * 8\n'ok'")
    assert "'ok'" in output
    assert "Error" not in output
    expect(active_panel(page)).to_have_attribute("data-revive-verdict", "live")


def test_page_reload_shows_no_banner(lab: LabServer, page: Page) -> None:
    _run_and_save(lab, page, "reload.ipynb", SEED[:2])
    page.reload()
    open_notebook(page, lab, "reload.ipynb")
    expect(active_panel(page)).to_have_attribute("data-revive-verdict", "live")
    expect(banner(page)).to_be_hidden()


def test_recovery_dialog_after_restart_from_another_client(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    _run_and_save(lab, page, "dialog.ipynb", SEED[:2])
    kernel = current_kernel_id(page)
    lab.api("POST", f"/api/kernels/{kernel}/restart")  # not through this tab

    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Kernel restarted", timeout=30_000)
    expect(dialog).to_contain_text("cleaned_df")
    page.screenshot(path=str(artifacts_dir / "recovery-dialog.png"))
    dialog.get_by_role("button", name="Restore").click()
    expect(banner(page)).to_be_hidden(timeout=30_000)
    wait_idle(page)
    wait_for_names(lab, kernel, {"df", "cleaned_df"})


def test_cancel_mid_restore(lab: LabServer, page: Page, artifacts_dir: Path) -> None:
    sources = [
        "import os, time\nx = 1",
        "time.sleep(0 if os.path.exists('quick') else 30)\ny = x + 1",
    ]
    # The first run is quick (the flag file exists), the replay is slow.
    flag = lab.root / "quick"
    flag.write_text("")
    _run_and_save(lab, page, "cancel.ipynb", sources)
    flag.unlink()
    bar = _reopen_after_server_restart(lab, page, "cancel.ipynb")
    bar.locator("button[data-action=restore]").click()
    # Cancel during the slow second cell: cancelled during the first (a loaded machine can
    # be that slow), x would be lost too and the offer below would name two cells.
    expect(bar).to_contain_text("Restoring kernel state: 2/2", timeout=20_000)
    bar.locator("button[data-action=cancel]").click()
    expect(bar).to_contain_text("Restore cancelled", timeout=20_000)
    # x was restored before the cancel: Resume offers only what is left.
    expect(bar.locator("button[data-action=restore]")).to_contain_text("Resume (1 cell)")
    expect(bar).to_contain_text("y came from 1 cell")
    page.screenshot(path=str(artifacts_dir / "banner-cancelled.png"))

    # The unfinished restore survives a save and a reload: the banner offers the rest.
    wait_idle(page)
    save(page)
    page.reload()
    open_notebook(page, lab, "cancel.ipynb")
    expect(bar).to_contain_text("A restore of lost kernel state did not finish", timeout=30_000)
    expect(bar).to_contain_text("y came from 1 cell")
    flag.write_text("")  # quick again
    bar.locator("button[data-action=restore]").click()
    expect(bar).to_be_hidden(timeout=30_000)
    wait_for_names(lab, current_kernel_id(page), {"x", "y"})
    save(page)
    assert "lost" not in nbformat.read(lab.root / "cancel.ipynb", as_version=4).metadata.revive


def test_new_error_during_restore_stops_and_names_the_cell(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    data = lab.root / "data.txt"
    data.write_text("42")
    _run_and_save(lab, page, "error.ipynb", ["text = open('data.txt').read()", "value = int(text)"])
    data.unlink()
    bar = _reopen_after_server_restart(lab, page, "error.ipynb")
    bar.locator("button[data-action=restore]").click()
    expect(bar).to_contain_text("Restore stopped", timeout=30_000)
    expect(bar).to_contain_text("Cell 1 failed: FileNotFoundError")
    page.screenshot(path=str(artifacts_dir / "banner-restore-error.png"))


def test_setting_always_restores_without_asking(lab: LabServer, page: Page) -> None:
    _run_and_save(lab, page, "always.ipynb", SEED[:2])
    write_settings(lab, {"onOpen": "always"})
    lab.restart()
    open_notebook(page, lab, "always.ipynb")
    wait_for_names(lab, current_kernel_id(page), {"df", "cleaned_df"})
    expect(active_panel(page)).to_have_attribute("data-revive-verdict", "live")


def test_setting_never_shows_nothing(lab: LabServer, page: Page) -> None:
    _run_and_save(lab, page, "never.ipynb", SEED[:2])
    write_settings(lab, {"onOpen": "never"})
    lab.restart()
    open_notebook(page, lab, "never.ipynb")
    expect(active_panel(page)).to_have_attribute("data-revive-verdict", "stale")
    page.wait_for_timeout(1500)  # the banner would have appeared by now
    expect(banner(page)).to_be_hidden()


def test_banner_in_jupyter_notebook_7(lab: LabServer, page: Page, artifacts_dir: Path) -> None:
    _run_and_save(lab, page, "nb7.ipynb", SEED[:2])
    lab.restart()
    page.goto(f"{lab.url}/notebooks/nb7.ipynb?token={lab.token}")
    bar = page.locator(".jp-revive-Banner")
    expect(bar).to_be_visible(timeout=60_000)
    expect(bar).to_contain_text("cleaned_df")
    page.screenshot(path=str(artifacts_dir / "notebook7-banner.png"))

    # The recovery dialog too: restore from the banner, then a restart from elsewhere.
    bar.locator("button[data-action=restore]").click()
    expect(bar).to_be_hidden(timeout=30_000)
    (kernel,) = [
        s["kernel"]["id"] for s in lab.api("GET", "/api/sessions") if s["path"] == "nb7.ipynb"
    ]
    wait_for_names(lab, kernel, {"df", "cleaned_df"})
    lab.api("POST", f"/api/kernels/{kernel}/restart")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Kernel restarted", timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "notebook7-dialog.png"))
    dialog.get_by_role("button", name="Restore").click()
    wait_for_names(lab, kernel, {"df", "cleaned_df"})


def test_kernel_dying_mid_restore_says_so_and_can_resume(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    flag = lab.root / "die"
    _run_and_save(
        lab,
        page,
        "die.ipynb",
        ["a = 1", "import os\nif os.path.exists('die'):\n    os._exit(1)\nb = a + 1", "c = b * 2"],
    )
    flag.write_text("")
    bar = _reopen_after_server_restart(lab, page, "die.ipynb")
    bar.locator("button[data-action=restore]").click()
    expect(bar).to_contain_text("Restore stopped", timeout=60_000)
    expect(bar).to_contain_text("kernel died")
    page.screenshot(path=str(artifacts_dir / "banner-kernel-died.png"))

    # JupyterLab's own "Kernel Restarting" notice; then, once the cause is gone, Resume
    # rebuilds what is missing again.
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    flag.unlink()
    kernel = current_kernel_id(page)
    wait_for_fresh_kernel(lab, kernel, gone="a")
    resume = bar.locator("button[data-action=restore]")
    expect(resume).to_contain_text("Resume")
    resume.click()
    expect(bar).to_be_hidden(timeout=60_000)
    wait_for_names(lab, kernel, {"a", "b", "c"})
    wait_idle(page)  # the restore's own executions bring the status back


def test_setting_always_on_restart_restores_after_a_kernel_restart(
    lab: LabServer, page: Page
) -> None:
    write_settings(lab, {"onRestart": "always"})
    _run_and_save(lab, page, "always-restart.ipynb", SEED[:2])
    kernel = current_kernel_id(page)
    lab.api("POST", f"/api/kernels/{kernel}/restart")
    wait_for_names(lab, kernel, {"df", "cleaned_df"})
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def test_commands_in_kernel_menu_and_dark_theme(
    lab: LabServer, page: Page, artifacts_dir: Path
) -> None:
    _run_and_save(lab, page, "menu.ipynb", SEED[:2])
    lab.restart()
    open_notebook(page, lab, "menu.ipynb")
    expect(banner(page)).to_be_visible(timeout=30_000)
    command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    banner(page).locator("button[data-action=details]").click()
    page.screenshot(path=str(artifacts_dir / "banner-dark.png"))

    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Show Restore Plan").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Restore plan")
    expect(dialog).to_contain_text("cleaned_df")
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name="Restore Kernel State").click()
    expect(banner(page)).to_be_hidden(timeout=30_000)
    wait_idle(page)
    wait_for_names(lab, current_kernel_id(page), {"df", "cleaned_df"})


def test_error_the_cell_had_originally_does_not_stop_the_restore(
    lab: LabServer, page: Page
) -> None:
    write_notebook(
        lab, "expected-error.ipynb", ["a = 1\nraise ValueError('expected')", "b = a + 1"]
    )
    open_notebook(page, lab, "expected-error.ipynb")
    run_cell(page, 0)
    run_cell(page, 1)
    save(page)
    bar = _reopen_after_server_restart(lab, page, "expected-error.ipynb")
    bar.locator("button[data-action=restore]").click()
    expect(bar).to_be_hidden(timeout=30_000)
    wait_for_names(lab, current_kernel_id(page), {"a", "b"})
    first = active_panel(page).locator(".jp-Notebook .jp-Cell").first
    expect(first.locator(".jp-OutputArea")).to_contain_text("ValueError: expected")
