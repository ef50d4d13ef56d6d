"""How often does a notebook opened in JupyterLab with ``--gateway-url`` get a silent kernel
connection (kernel_info unanswered within 10 s), with jupyter-revive enabled and without it?

Not a test: a measurement behind the README's note on the gateway proxy's double connect.
Usage: ``.venv/bin/python -m benchmarks.gateway_silent_connections [N] [with|without|both]``.
Each open is a fresh page on a new notebook (a new kernel and session); the kernel is shut
down after each open so that the gateway's load stays the same.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, LabServer, write_notebook
from tests.gateway_host import KernelGateway

PROBE = """() => {
    const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    return Promise.race([
        k.requestKernelInfo().then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 10000)),
    ]);
}"""


def disable_revive(lab: LabServer) -> None:
    """Both halves off, in the lab's own config dir (the user-level config wins)."""
    config = lab.home / "config"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_revive": False}}})
    )
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"jupyter-revive": True}})
    )


def open_once(page: Page, lab: LabServer, name: str) -> tuple[bool, bool]:
    """(answered, revive_active) for one fresh open of ``name``."""
    page.goto(lab.lab_url(name) + "&reset")  # a fresh workspace: no tabs of earlier opens
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const k = w && w.context && w.context.path === path && w.sessionContext.session
                && w.sessionContext.session.kernel;
            return !!k && k.connectionStatus === 'connected';
        }""",
        arg=name,
        timeout=60_000,
    )
    answered = bool(page.evaluate(PROBE))
    active = bool(
        page.evaluate("() => !!document.querySelector('.jp-NotebookPanel[data-revive-verdict]')")
    )
    return answered, active


def collisions(gateway_log: str) -> int:
    """Replacements that closed nothing: the "stale" connection had not finished its upgrade
    (no 101 for its session yet; tornado's close is a no-op then), so both connections of the
    session open and both hold shell sockets with the session id as ZMQ identity."""
    count = 0
    lines = gateway_log.splitlines()
    for i, line in enumerate(lines):
        if "Replacing stale connection:" not in line:
            continue
        session = line.rsplit(":", 1)[1].strip()
        count += not any(" 101 GET " in x and f"session_id={session}" in x for x in lines[:i])
    return count


def measure(n: int, with_revive: bool, out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    gateway = KernelGateway(out / "gateway-host", out / "gateway.log")
    gateway.start()
    lab = LabServer(out / "lab", out, extra_args=[f"--gateway-url={gateway.url}"])
    if not with_revive:
        disable_revive(lab)
    lab.start()
    silent: list[int] = []
    active_count = 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            for i in range(n):
                name = f"nb{i}.ipynb"
                write_notebook(lab, name, ["x = 1"])
                context = browser.new_context()
                page = context.new_page()
                try:
                    answered, active = open_once(page, lab, name)
                except Exception as e:  # a page that never connects counts as silent
                    print(f"  open {i}: {type(e).__name__}", flush=True)
                    answered, active = False, False
                context.close()
                active_count += active
                if not answered:
                    silent.append(i)
                print(f"  open {i}: answered={answered} revive={active}", flush=True)
                for s in lab.api("GET", "/api/sessions"):
                    lab.api("DELETE", f"/api/sessions/{s['id']}")
                time.sleep(0.5)
            browser.close()
    finally:
        lab.stop()
        gateway.stop()
    log = (out / "gateway.log").read_text(errors="replace")
    return {
        "with_revive": with_revive,
        "opens": n,
        "silent": len(silent),
        "silent_opens": silent,
        "revive_active_pages": active_count,
        "stale_replacements": log.count("Replacing stale connection"),
        "replacements_closing_nothing": collisions(log),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    modes = {"with": [True], "without": [False], "both": [True, False]}[which]
    base = Path(tempfile.mkdtemp(prefix="gw-silent-"))
    for with_revive in modes:
        result = measure(n, with_revive, base / ("with" if with_revive else "without"))
        print(json.dumps(result), flush=True)
    print(f"logs in {base}")


if __name__ == "__main__":
    main()
