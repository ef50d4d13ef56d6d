"""jupyter-revive under a real JupyterHub (dummy authenticator, simple spawner,
configurable-http-proxy): the seed scenario through the hub's URL, other users kept out, and
checkpoints filed under each user's own Jupyter data directory."""

from __future__ import annotations

import re
import stat
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jupyter_revive.checkpoint.keys import KEY_FILE
from jupyter_revive.handlers import routes

from .hub import Hub, HubUser, request
from .lab import (
    active_panel,
    append_and_run,
    banner,
    current_kernel_id,
    notebook_metadata,
    open_notebook,
    run_all,
    save,
    wait_for_names,
    wait_idle,
    write_notebook,
)
from .test_recovery import LOST, SEED


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[Hub]:
    """One hub for this module, users a and b with their servers started through its API."""
    hub = Hub(tmp_path_factory.mktemp("hub"), artifacts_dir)
    hub.start()
    try:
        hub.users = {name: hub.user(name) for name in ("a", "b")}
        for user in hub.users.values():
            user.start()
        yield hub
    finally:
        hub.stop()


def _status(method: str, url: str, token: str, body: object = None) -> int:
    try:
        request(method, url, token, body)
    except urllib.error.HTTPError as e:
        return e.code
    return 200


def _endpoints(kernel_id: str) -> list[tuple[str, str]]:
    """Every (method, path) of the extension's route table, with a real kernel id in it."""
    out = []
    for pattern, handler in routes():
        path = re.sub(r"\(\?P<kernel_id>[^)]*\)", kernel_id, pattern)
        for method in ("get", "post", "put", "delete"):
            if method in vars(handler):
                out.append((method.upper(), path))
    return out


def test_another_users_token_gets_403_on_every_endpoint(hub: Hub) -> None:
    a, b = hub.users["a"], hub.users["b"]
    kernel = a.api("POST", "/api/kernels", {"name": "python3"})["id"]
    try:
        endpoints = _endpoints(kernel)
        assert len(endpoints) >= 10
        for method, path in endpoints:
            body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
            url = a.url + path
            assert _status(method, url, b.token, body) == 403, (method, path)
            # The same request with a's own token is let through (its answers differ: 200,
            # 400 on the empty body, 409...), so the 403 above is b being kept out.
            assert _status(method, url, a.token, body) not in (401, 403), (method, path)
    finally:
        a.api("DELETE", f"/api/kernels/{kernel}")


def _login(page: Page, hub: Hub, user: HubUser) -> None:
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(user.name)
    page.locator("#password_input").fill("any password: the dummy authenticator")
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{user.name}/lab"), timeout=60_000)


def test_seed_scenario_through_the_hub(hub: Hub, page: Page, artifacts_dir: Path) -> None:
    a = hub.users["a"]
    write_notebook(a, "seed.ipynb", SEED)
    _login(page, hub, a)
    open_notebook(page, a, "seed.ipynb")
    run_all(page, len(SEED))
    save(page)

    # Stopped and started again through the hub, as "Stop My Server" or an idle cull would:
    # the spawner's SIGINT stops the server gracefully, which checkpoints the kernel first.
    a.restart()
    open_notebook(page, a, "seed.ipynb")
    bar = banner(page)
    expect(bar).to_be_visible(timeout=30_000)
    expect(bar).to_contain_text("Kernel state was lost")
    expect(bar).to_contain_text("from a checkpoint")
    page.screenshot(path=str(artifacts_dir / "hub-banner.png"))

    bar.locator("button[data-action=restore]").click()
    expect(bar).to_be_hidden(timeout=60_000)
    wait_idle(page)
    wait_for_names(a, current_kernel_id(page), LOST)
    output = append_and_run(page, "assert predictions[-1] == model * 8\n'ok'")
    assert "'ok'" in output and "Error" not in output
    expect(active_panel(page)).to_have_attribute("data-revive-verdict", "live")
    page.screenshot(path=str(artifacts_dir / "hub-restored.png"))

    # A kernel restart made by another client reaches this tab through the hub's proxy (the
    # server's event stream), and the recovery dialog brings the state back.
    kernel = current_kernel_id(page)
    a.api("POST", f"/api/kernels/{kernel}/restart")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Kernel restarted", timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "hub-recovery-dialog.png"))
    dialog.get_by_role("button", name="Restore").click()
    expect(dialog).to_be_hidden(timeout=30_000)
    wait_idle(page)
    wait_for_names(a, kernel, LOST)

    # The checkpoint and its signing key are a's: in a's Jupyter data dir, not b's or the hub's.
    notebook = notebook_metadata(page)["metadata"]["revive"]["notebook"]
    listed = a.api("GET", f"/jupyter-revive/checkpoints?notebook={notebook}")["checkpoints"]
    assert listed, "the shutdown checkpoint is listed"
    revive = a.data_dir / "revive"
    for entry in listed:
        assert Path(entry["where"]).is_relative_to(revive / "checkpoints" / notebook)
    assert stat.S_IMODE((revive / KEY_FILE).stat().st_mode) == 0o600
    assert not (hub.users["b"].data_dir / "revive" / "checkpoints" / notebook).exists()
    assert not list(hub.hub_home.rglob("revive"))


def test_each_users_checkpoints_and_key_live_in_their_own_data_dir(hub: Hub) -> None:
    a, b = hub.users["a"], hub.users["b"]
    notebook = str(uuid.uuid4())
    kernel = b.api("POST", "/api/kernels", {"name": "python3"})["id"]
    try:
        taken = b.api(
            "POST", f"/jupyter-revive/kernels/{kernel}/checkpoint", {"notebook": notebook}
        )
    finally:
        b.api("DELETE", f"/api/kernels/{kernel}")
    folder = b.data_dir / "revive" / "checkpoints" / notebook / taken["checkpoint"]
    assert folder.is_dir()
    b_key = b.data_dir / "revive" / KEY_FILE
    assert stat.S_IMODE(b_key.stat().st_mode) == 0o600
    assert not (a.data_dir / "revive" / "checkpoints" / notebook).exists()
    assert not list(hub.hub_home.rglob("revive"))
    # a's server does not list b's checkpoint; b's does.
    assert a.api("GET", f"/jupyter-revive/checkpoints?notebook={notebook}")["checkpoints"] == []
    listed = b.api("GET", f"/jupyter-revive/checkpoints?notebook={notebook}")["checkpoints"]
    assert [c["checkpoint"] for c in listed] == [taken["checkpoint"]]
    a_key = a.data_dir / "revive" / KEY_FILE
    if a_key.exists():  # made by the browser test when it ran first: the keys differ
        assert a_key.read_bytes() != b_key.read_bytes()
