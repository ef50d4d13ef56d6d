"""Prompt cells in a real JupyterLab, the real SDK on the server, the fake Anthropic API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.fake_anthropic import FakeAnthropic

from .lab import (
    LabServer,
    active_panel,
    banner,
    command,
    open_notebook,
    run_all,
    save,
    write_notebook,
)

KEY = "sk-ant-browser-test-key-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=KEY) as server:
        yield server


def _lab(tmp_path: Path, artifacts_dir: Path, fake: FakeAnthropic, key: str | None) -> LabServer:
    env = {"ANTHROPIC_BASE_URL": fake.url}
    if key:
        env["ANTHROPIC_API_KEY"] = key
    server = LabServer(tmp_path / "lab", artifacts_dir, env=env)
    server.start()
    return server


@pytest.fixture
def lab_llm(tmp_path: Path, artifacts_dir: Path, fake: FakeAnthropic) -> Iterator[LabServer]:
    server = _lab(tmp_path, artifacts_dir, fake, KEY)
    yield server
    server.stop()


def _write_prompt(page: Page, text: str) -> None:
    command(page, "jupyter-revive:insert-prompt")
    cell = active_panel(page).locator(".jp-revive-PromptCell").last
    expect(cell).to_be_visible()
    cell.locator(".cm-content").click()
    page.keyboard.type(text)


def _footer(page: Page):
    return active_panel(page).locator(".jp-revive-PromptFooter").last


def test_prompt_streams_code_that_runs(
    lab_llm: LabServer, page: Page, fake: FakeAnthropic, artifacts_dir: Path
) -> None:
    path = write_notebook(lab_llm, "prompt.ipynb", ["values = [3, 1, 2]"])
    open_notebook(page, lab_llm, "prompt.ipynb")
    run_all(page, 1)
    fake.reply_text("```python\nprint(sorted(values))\n```", chunks=12, delay=0.25)
    _write_prompt(page, "print the values sorted")
    _footer(page).get_by_role("button", name="Generate").click()

    code_cell = active_panel(page).locator(".jp-CodeCell").last
    expect(code_cell.locator(".cm-content")).to_contain_text("print(sor", timeout=10_000)
    expect(_footer(page).get_by_role("button", name="Stop")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "prompt-streaming.png"))

    expect(code_cell.locator(".jp-OutputArea")).to_contain_text("[1, 2, 3]", timeout=20_000)
    expect(_footer(page)).to_contain_text("Generated")
    page.screenshot(path=str(artifacts_dir / "prompt-done.png"))

    # What the API saw: the live variable and the prompt; the key only as a credential.
    sent = fake.requests[-1]
    assert "values" in json.dumps(sent.body) and "print the values sorted" in json.dumps(sent.body)
    assert sent.api_key == KEY and KEY not in json.dumps(sent.body)

    save(page)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    prompt_cell, generated = nb.cells[-2], nb.cells[-1]
    assert prompt_cell.cell_type == "markdown" and prompt_cell.source == "print the values sorted"
    link = prompt_cell.metadata["revive"]["prompt"]["id"]
    assert generated.cell_type == "code"
    assert generated.metadata["revive"]["generated"]["prompt"] == link
    assert "values" in generated.metadata["revive"]["generated"]["variables"]
    assert KEY not in path.read_text()


def test_stop_mid_stream_inserts_nothing(
    lab_llm: LabServer, page: Page, fake: FakeAnthropic, artifacts_dir: Path
) -> None:
    write_notebook(lab_llm, "stop.ipynb", ["x = 1"])
    open_notebook(page, lab_llm, "stop.ipynb")
    fake.reply_text("```python\n" + "x = x + 1\n" * 40 + "```", chunks=40, delay=0.3)
    _write_prompt(page, "increment x many times")
    _footer(page).get_by_role("button", name="Generate").click()
    expect(active_panel(page).locator(".jp-CodeCell").last.locator(".cm-content")).to_contain_text(
        "x = x + 1", timeout=10_000
    )
    _footer(page).get_by_role("button", name="Stop").click()
    expect(_footer(page)).to_contain_text("Stopped; nothing was inserted", timeout=10_000)
    expect(active_panel(page).locator(".jp-CodeCell")).to_have_count(1)  # only the original
    expect(_footer(page).get_by_role("button", name="Keep partial code")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "prompt-stopped.png"))
    assert fake.wait_for(lambda f: f.requests and f.requests[-1].disconnected, timeout=10)
    # The prompt text is kept and editable.
    assert (
        "increment x many times" in active_panel(page).locator(".jp-revive-PromptCell").inner_text()
    )


def test_no_api_key_tells_how_to_set_it(
    tmp_path: Path, artifacts_dir: Path, page: Page, fake: FakeAnthropic
) -> None:
    lab = _lab(tmp_path, artifacts_dir, fake, key=None)
    try:
        write_notebook(lab, "nokey.ipynb", ["x = 1"])
        open_notebook(page, lab, "nokey.ipynb")
        _write_prompt(page, "anything")
        _footer(page).get_by_role("button", name="Generate").click()
        expect(_footer(page)).to_contain_text("ANTHROPIC_API_KEY", timeout=10_000)
        page.screenshot(path=str(artifacts_dir / "prompt-no-key.png"))
        assert fake.requests == []
    finally:
        lab.stop()


def test_missing_variable_guard_after_server_restart(
    lab_llm: LabServer, page: Page, fake: FakeAnthropic, artifacts_dir: Path
) -> None:
    write_notebook(
        lab_llm,
        "guard.ipynb",
        ["df = [1, 2, 3, 4]", "predictions = [x * 10 for x in df]"],
    )
    open_notebook(page, lab_llm, "guard.ipynb")
    run_all(page, 2)
    save(page)
    lab_llm.restart()
    open_notebook(page, lab_llm, "guard.ipynb")
    expect(banner(page)).to_be_visible(timeout=30_000)
    banner(page).locator("button[data-action=dismiss]").click()

    fake.reply_text("```python\nprint('total', sum(predictions))\n```", chunks=4)
    command(page, "notebook:move-cursor-down")
    _write_prompt(page, "plot predictions against actual values")
    _footer(page).get_by_role("button", name="Generate").click()
    expect(_footer(page)).to_contain_text("needs predictions", timeout=20_000)
    expect(_footer(page)).to_contain_text("restore 2 cells first")
    page.screenshot(path=str(artifacts_dir / "prompt-missing-guard.png"))
    _footer(page).get_by_role("button", name="Restore and run").click()
    code_cell = active_panel(page).locator(".jp-CodeCell").last
    expect(code_cell.locator(".jp-OutputArea")).to_contain_text("total 100", timeout=30_000)
    assert "NameError" not in code_cell.inner_text()


def test_regenerate_replaces_the_linked_code_and_keeps_the_prompt(
    lab_llm: LabServer, page: Page, fake: FakeAnthropic
) -> None:
    write_notebook(lab_llm, "regen.ipynb", ["values = [3, 1, 2]"])
    open_notebook(page, lab_llm, "regen.ipynb")
    run_all(page, 1)
    fake.reply_text("```python\nprint('first', max(values))\n```")
    fake.reply_text("```python\nprint('second', min(values))\n```")
    _write_prompt(page, "show an extreme value")
    _footer(page).get_by_role("button", name="Generate").click()
    cells = active_panel(page).locator(".jp-CodeCell")
    expect(_footer(page)).to_contain_text("Generated", timeout=20_000)
    expect(cells.last.locator(".jp-OutputArea")).to_contain_text("first 3", timeout=20_000)

    _footer(page).get_by_role("button", name="Regenerate").click()
    expect(cells.last.locator(".jp-OutputArea")).to_contain_text("second 1", timeout=20_000)
    expect(cells).to_have_count(2)  # the original cell and one generated cell, replaced
    prompt = active_panel(page).locator(".jp-revive-PromptCell")
    assert "show an extreme value" in prompt.inner_text()
    # The earlier attempt is not fed back to the model as notebook code.
    assert "print('first'" not in json.dumps(fake.requests[-1].body)
