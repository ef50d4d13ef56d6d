from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .lab import CHROMIUM, CHROMIUM_ARGS, LabServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


# Package scope: sync Playwright keeps an event loop running in the main thread while it is
# open, which would break the asyncio tests of other packages run after these.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run scripts/setup --browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def lab(tmp_path: Path, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[LabServer]:
    wanted = request.node.get_closest_marker("shutdown_checkpoints") is not None
    server = LabServer(tmp_path / "lab", artifacts_dir, shutdown_checkpoints=wanted)
    server.start()
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Kept on the item so the page fixture can tell, at teardown, that its test failed.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
        if report.failed:
            # Printed with the failure: CI keeps no artifacts, and a flake seen only there
            # must say what the page showed.
            report.sections.append(("page at failure", _page_state(item)))
    return report


_CALL_FAILED = pytest.StashKey[bool]()
_CONSOLE = pytest.StashKey[list[str]]()
_STATE = """() => {
    const app = window.jupyterapp;
    const w = app && app.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session
        && w.sessionContext.session.kernel;
    const banners = [...document.querySelectorAll('.jp-revive-Banner')]
        .filter(b => b.offsetParent !== null).map(b => b.innerText.replace(/\\s+/g, ' '));
    return {
        path: w && w.context ? w.context.path : null,
        verdict: w && w.node ? w.node.dataset.reviveVerdict || null : null,
        kernel: k ? `${k.id} ${k.status} ${k.connectionStatus}` : null,
        prompts: w && w.node ? [...w.node.querySelectorAll('.jp-InputPrompt')]
            .map(p => p.innerText.trim()).join(' ') : null,
        banners,
        dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText)
    };
}"""


def _page_state(item: pytest.Item) -> str:
    """The current notebook, its kernel, banners and dialogs, and the console's last lines."""
    funcargs: dict[str, object] = getattr(item, "funcargs", {})
    page = funcargs.get("page")
    if not isinstance(page, Page):
        return "(no page)"
    try:
        state = page.evaluate(_STATE)
        lines = [f"{key}: {value}" for key, value in state.items()]
    except Exception as e:  # a crashed page still leaves its console
        lines = [f"page state unreadable: {e}"]
    console = item.stash.get(_CONSOLE, [])
    lines += [f"console (last 25 of {len(console)}):", *console[-25:]]
    log = getattr(funcargs.get("lab"), "log_path", None)
    if log is not None and log.exists():
        server = log.read_text(errors="replace").splitlines()
        lines += [f"server log {log.name} (last 25 of {len(server)}):", *server[-25:]]
    return "\n".join(lines)


@pytest.fixture
def page(browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    page = context.new_page()
    console: list[str] = []
    request.node.stash[_CONSOLE] = console
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    yield page
    if request.node.stash.get(_CALL_FAILED, False):
        # What the page showed and logged when its test failed, for a failure seen only in CI.
        failures = artifacts_dir / "failures"
        failures.mkdir(exist_ok=True)
        name = request.node.name
        (failures / f"{name}.console.txt").write_text("\n".join(console) + "\n")
        try:
            page.screenshot(path=str(failures / f"{name}.png"))
        except Exception as e:  # a page that crashed still leaves its console log
            (failures / f"{name}.screenshot-error.txt").write_text(str(e))
    context.close()
