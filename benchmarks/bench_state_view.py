"""The Kernel State view for a 500-cell notebook with history, in real JupyterLab + Chromium.

Times, in the page, from the graph in hand (`POST graph` answered) to the SVG built (dagre
layout + DOM) and to the next frame drawn (style, layout and paint included): the view records
both on its node (`data-revive-layout-ms`, `data-revive-render-ms`). Goal: ≤ 1 s. Also prints
`POST graph` over HTTP, for scale. Two shapes of notebook, both stale (the state is lost, so
the nodes also say what a restore does):
- `pipeline`: an import cell every later cell uses, sections of 25 cells each reading the
  previous section's result, steps chained within a section, a display cell every fifth;
- `lanes`: every cell reads the value made 5 runs earlier (5 parallel chains: 5 lanes of
  edges beside the column, none implied by another path). Never run as a test.

    .venv/bin/python -m benchmarks.bench_state_view [--cells 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from playwright.sync_api import Page, sync_playwright

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, LabServer, write_settings

from .notebooks import stale_notebook

GOAL_MS = 1000.0


def pipeline_sources(cells: int) -> list[str]:
    sources = ["import math"]
    for i in range(1, cells):
        section, step = divmod(i, 25)
        if step == 0:
            before = f"s{section - 1}_24" if section > 1 else "[1.0, 2.0]"
            sources.append(f"s{section}_0 = [math.sqrt(v) for v in {before}]")
        elif step % 5 == 0:
            sources.append(f"print(len(s{section}_{step - 1}))")
        else:
            last = step - 1 if (step - 1) % 5 else step - 2
            sources.append(f"s{section}_{step} = [math.floor(v) + 1 for v in s{section}_{last}]")
    return sources


def lanes_sources(cells: int) -> list[str]:
    return [f"v{i} = {i}" if i < 5 else f"v{i} = v{i - 5} + 1" for i in range(cells)]


def open_view(page: Page, lab: LabServer, name: str, cells: int) -> dict[str, float]:
    page.goto(lab.lab_url(name))
    page.wait_for_function(
        "(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return !!w && w.context && w.context.path === p && !!w.node.dataset.reviveVerdict; }",
        arg=name,
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-revive:show-state')")
    page.wait_for_function(
        """(n) => { const v = document.getElementById('jp-revive-state-view');
            return v && v.dataset.reviveState === 'lost' && v.dataset.reviveNodes === String(n)
                && v.dataset.reviveRenderMs; }""",
        arg=cells,
        timeout=120_000,
    )
    return page.evaluate(
        """() => { const v = document.getElementById('jp-revive-state-view');
            return {layout: Number(v.dataset.reviveLayoutMs),
                    render: Number(v.dataset.reviveRenderMs),
                    edges: v.querySelectorAll('.jp-revive-StateView-edge').length,
                    width: Number(v.querySelector('svg').getAttribute('width'))}; }"""
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    shapes = {"pipeline": pipeline_sources(args.cells), "lanes": lanes_sources(args.cells)}
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lab = LabServer(Path(tmp), Path(tmp))
        write_settings(lab, {"onOpen": "never", "checkOnSave": False})
        lab.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1300, "height": 850})
                for shape, sources in shapes.items():
                    nb = stale_notebook(sources)
                    name = f"{shape}.ipynb"
                    nbformat.write(nb, lab.root / name)
                    layout, render, http = [], [], []
                    info: dict[str, float] = {}
                    for run in range(args.runs + 1):  # the first open warms caches
                        info = open_view(page, lab, name, args.cells)
                        t0 = time.perf_counter()
                        lab.api("POST", "/jupyter-revive/graph", {"notebook": nb})
                        http.append((time.perf_counter() - t0) * 1000)
                        if run:
                            layout.append(info["layout"])
                            render.append(info["render"])
                    med = statistics.median
                    results[shape] = {
                        "edges_drawn": info["edges"],
                        "svg_width_px": info["width"],
                        "layout_and_svg_ms": round(med(layout), 1),
                        "to_next_frame_ms": round(med(render), 1),
                        "worst_to_next_frame_ms": round(max(render), 1),
                        "ratio_to_goal_1s": round(med(render) / GOAL_MS, 2),
                        "post_graph_http_ms": round(med(http), 1),
                    }
                browser.close()
        finally:
            lab.stop()
    print(json.dumps({"cells": args.cells, "runs": args.runs, **results}, indent=2))


if __name__ == "__main__":
    main()
