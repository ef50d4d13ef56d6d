"""A real `jupyter lab` process for browser tests, and helpers to drive it from Playwright."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from playwright.sync_api import Page, expect

from tests.processes import stop_process

CHROMIUM = os.environ.get("REVIVE_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NotebookServer(Protocol):
    """What the helpers below ask of a server: this suite's `LabServer` or a hub user's."""

    root: Path

    def lab_url(self, path: str = "") -> str: ...

    def api(self, method: str, path: str, body: Any = None) -> Any: ...


class LabServer:
    """`jupyter lab` with jupyter-revive enabled, isolated in its own dirs; can be restarted."""

    def __init__(
        self,
        home: Path,
        log_dir: Path,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        shutdown_checkpoints: bool = False,
    ) -> None:
        self.home = home
        self.root = home / "notebooks"
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.extra_args = extra_args or []
        if not shutdown_checkpoints:
            # On by default in the product; off here unless asked, so that a server or kernel
            # restart loses the state a test means to restore by re-running cells.
            self.extra_args.append("--ShutdownCheckpoints.enabled=False")
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path: Path | None = None  # the current (last) start's log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        env = dict(os.environ)
        for name, sub in (
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),  # checkpoints and their signing key
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ):
            (self.home / sub).mkdir(exist_ok=True)
            env[name] = str(self.home / sub)
        env.pop("ANTHROPIC_API_KEY", None)
        env.pop("ANTHROPIC_BASE_URL", None)
        env.update(self.extra_env)
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            *self.extra_args,
        ]
        self.log_path = self.log_dir / f"lab-{self.port}-{self.starts}.log"
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early, see {log.name}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError("jupyter lab did not answer within 60 s")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}"


def write_notebook(server: NotebookServer, name: str, sources: list[str]) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[new_code_cell(src) for src in sources],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    path = server.root / name
    nbformat.write(nb, path)
    return path


# -- page helpers (JupyterLab runs with expose_app_in_browser, so commands are reachable) -----


def open_notebook(page: Page, server: NotebookServer, name: str) -> None:
    page.goto(server.lab_url(name))
    # The notebook is current, its kernel idle, and jupyter-revive has given its verdict
    # (it asked the server about the kernel) — other open notebooks don't count.
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return !!w && w.context && w.context.path === path && !!w.node.dataset.reviveVerdict;
        }""",
        arg=name,
        timeout=60_000,
    )
    expect(active_panel(page)).to_be_visible()
    wait_idle(page)


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const w = app && app.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
        }""",
        timeout=timeout,
    )


def command(page: Page, name: str, args: dict[str, Any] | None = None) -> Any:
    return page.evaluate(
        "([name, args]) => window.jupyterapp.commands.execute(name, args)", [name, args or {}]
    )


def wait_for_counts(page: Page, count: int) -> None:
    """The first ``count`` code cells of the notebook in view show an execution count."""
    page.wait_for_function(
        """(n) => {
            const prompts = [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
            return prompts.length >= n
                && prompts.slice(0, n).every(p => /\\[\\d+\\]/.test(p.textContent || ''));
        }""",
        arg=count,
        timeout=60_000,
    )


def run_all(page: Page, count: int) -> None:
    command(page, "notebook:run-all-cells")
    wait_for_counts(page, count)
    wait_idle(page)


def save(page: Page) -> None:
    command(page, "docmanager:save")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )


def notebook_metadata(page: Page) -> dict[str, Any]:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.toJSON()")


def current_kernel_id(page: Page) -> str:
    return page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id"
    )


def active_panel(page: Page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first


def banner(page: Page):
    return active_panel(page).locator(".jp-revive-Banner")


def write_settings(server: LabServer, values: dict[str, Any]) -> None:
    """User settings of the jupyter-revive plugin, as the settings editor would save them."""
    folder = server.home / "settings" / "jupyter-revive"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.jupyterlab-settings").write_text(json.dumps(values))


def kernel_names(server: NotebookServer, kernel_id: str) -> set[str]:
    answer = server.api("GET", f"/jupyter-revive/kernels/{kernel_id}/variables")
    return {v["name"] for v in answer["variables"]}


def append_and_run(page: Page, source: str, timeout: float = 30_000) -> str:
    """Append a code cell, run it as the user would (run-cell command), return its output text."""
    page.evaluate(
        """(source) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.model.sharedModel.insertCell(nb.model.cells.length,
                {cell_type: 'code', source});
            nb.activeCellIndex = nb.model.cells.length - 1;
            nb.mode = 'command';
        }""",
        source,
    )
    command(page, "notebook:run-cell")
    last = active_panel(page).locator(".jp-Notebook .jp-Cell").last
    expect(last.locator(".jp-InputPrompt")).to_have_text(
        __import__("re").compile(r"\[\d+\]"), timeout=timeout
    )
    wait_idle(page)
    return last.locator(".jp-OutputArea").inner_text()


def wait_for_names(
    server: NotebookServer, kernel_id: str, names: set[str], timeout: float = 60
) -> None:
    """Poll the kernel's variables until `names` are all there (a restore may still be running)."""
    deadline = time.monotonic() + timeout
    present: set[str] = set()
    while time.monotonic() < deadline:
        try:
            present = kernel_names(server, kernel_id)
        except urllib.error.HTTPError as e:
            if e.code != 503:  # busy: the restore is still running
                raise
        if names <= present:
            return
        time.sleep(0.5)
    raise AssertionError(f"kernel never held {sorted(names - present)}")


def wait_for_fresh_kernel(
    server: LabServer, kernel_id: str, gone: str, timeout: float = 60
) -> None:
    """Poll until the kernel answers again without `gone`: its replacement process is up.

    Asked of the server, not of the page: after an automatic restart JupyterLab's status
    can miss the new kernel's first 'idle' (jupyterlab#9484) and read busy until the next
    execution, while the kernel itself is ready.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if gone not in kernel_names(server, kernel_id):
                return
        except urllib.error.HTTPError as e:
            if e.code not in (500, 502, 503):  # the kernel is still coming back
                raise
        time.sleep(0.5)
    raise AssertionError(f"kernel {kernel_id} never came back without {gone!r}")


def run_cell(page: Page, index: int) -> None:
    """Run one cell as the user would (select it, run-cell command) and wait until it is done."""
    page.evaluate(
        "(i) => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " nb.activeCellIndex = i; nb.mode = 'command'; }",
        index,
    )
    command(page, "notebook:run-cell")
    prompt = (
        active_panel(page).locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt")
    )
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=30_000)
    wait_idle(page)
