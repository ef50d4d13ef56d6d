"""Open → verdict → banner for a 500-cell stale notebook, in real JupyterLab + Chromium.

Prints, over several opens of the same notebook:
- the server's own answers, timed over HTTP: GET context (kernel round trip) and POST plan;
- in the browser, from the session being ready to the verdict, and to the banner shown.
The extension's own work to the verdict is its context request as the browser timed it
(server + silent kernel query + JSON); the remainder of open → verdict is JupyterLab's own
rendering of the cells on the same main thread. Never run as a test.

    .venv/bin/python -m benchmarks.bench_verdict [--cells 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from playwright.sync_api import sync_playwright

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, LabServer, current_kernel_id

from .notebooks import stale_notebook


def chain_sources(cells: int) -> list[str]:
    """A chain plus side branches: every third cell only displays."""
    return ["v0 = 0"] + [
        f"v{i} = v{i - 1} + 1" if i % 3 else f"print(v{i - 1})" for i in range(1, cells)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        lab = LabServer(Path(tmp), Path(tmp))
        lab.start()
        try:
            nb = stale_notebook(chain_sources(args.cells))
            nbformat.write(nb, lab.root / "big.ipynb")
            to_verdict, to_banner, ctx_http, plan_http = [], [], [], []
            in_browser_ctx: list[float] = []
            in_browser_plan: list[float] = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1300, "height": 850})
                for run in range(args.runs + 1):  # the first open warms caches
                    page.goto(lab.lab_url("big.ipynb"))
                    page.wait_for_selector(".jp-revive-Banner:not(.lm-mod-hidden)", timeout=120_000)
                    marks = page.evaluate(
                        """() => Object.fromEntries(performance.getEntriesByType('mark')
                            .filter(m => m.name.startsWith('revive:'))
                            .map(m => [m.name, m.startTime]))"""
                    )
                    requests = page.evaluate(
                        """() => Object.fromEntries(performance.getEntriesByType('resource')
                            .filter(r => r.name.includes('/jupyter-revive/'))
                            .map(r => [r.name.includes('/plan') ? 'plan' : 'context',
                                       r.responseEnd - r.startTime]))"""
                    )
                    kernel = current_kernel_id(page)
                    t0 = time.perf_counter()
                    lab.api("GET", f"/jupyter-revive/kernels/{kernel}/context")
                    t1 = time.perf_counter()
                    lab.api("POST", "/jupyter-revive/plan", {"notebook": nb, "kernel_id": kernel})
                    t2 = time.perf_counter()
                    if run == 0:
                        continue
                    in_browser_ctx.append(requests.get("context", float("nan")))
                    in_browser_plan.append(requests.get("plan", float("nan")))
                    to_verdict.append(marks["revive:verdict"] - marks["revive:ready"])
                    to_banner.append(marks["revive:banner"] - marks["revive:ready"])
                    ctx_http.append((t1 - t0) * 1000)
                    plan_http.append((t2 - t1) * 1000)
                browser.close()
        finally:
            lab.stop()

    med = statistics.median
    # Our requests' wall time in the browser; the rest of open → verdict is the main thread
    # busy with JupyterLab rendering 500 cells, measured here as the remainder.
    own = med(in_browser_ctx)
    print(
        json.dumps(
            {
                "cells": args.cells,
                "runs": args.runs,
                "ready_to_verdict_ms": round(med(to_verdict), 1),
                "ready_to_banner_ms": round(med(to_banner), 1),
                "get_context_http_ms (baseline: kernel round trip)": round(med(ctx_http), 1),
                "post_plan_http_ms": round(med(plan_http), 1),
                "context_request_in_browser_ms": round(med(in_browser_ctx), 1),
                "plan_request_in_browser_ms": round(med(in_browser_plan), 1),
                "extension_own_work_to_verdict_ms": round(own, 1),
                "waiting_for_jupyterlab_main_thread_ms": round(med(to_verdict) - own, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
