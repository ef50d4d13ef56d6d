"""Tracker overhead counted, not timed: real kernels run under valgrind's cache simulator.

Run: ``.venv/bin/python -m benchmarks.bench_tracker_cycles`` (from the repository root; needs
``valgrind``). Prints figures; never run as a test.

``bench_tracker.py`` times round trips, which other processes on the machine inflate by several
percent from one run to the next. Here the same small-cell replay runs in kernels under
valgrind, so two runs of the same code give nearly the same figures:

* **hooks**: the tracker's ``pre_run_cell``/``post_run_cell`` in a tracked kernel, and the
  record each cell gets (finished later, in the kernel's wait before its reply), re-registered
  through ``operator.call`` so that callgrind collects inside them only
  (``--toggle-collect``), with the caches as the kernel's own work left them.
* **whole kernel**: everything a cell costs a kernel with and without the tracker (reply
  metadata, garbage collection, the metadata hooks included), from the difference between a
  short and a long replay of each (start-up cancels out), under cachegrind. Less exact than the
  hooks' figure: asyncio and ZMQ polling vary from run to run by ~1% of a cell.

Costs are in *model cycles*: instructions + 10 per first-level cache miss + 40 per miss of a
1 MiB last level (this machine's L2; misses there mostly hit its L3). The ``rep movsb`` of
``memcpy`` counts one instruction per byte under valgrind; it is counted at 32 bytes per
instruction instead. The ratio of the whole-kernel figures is the tracker's CPU cost; in
``bench_tracker.py``'s wall-clock ratio of medians (goal: at most 1.02) the records' part is
hidden in the wait, so that ratio is lower.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.bench_tracker import SETUP, Bench, small_cells, write_spec

CACHES = ["--I1=65536,4,64", "--D1=65536,4,64", "--LL=1048576,16,64"]
HOOKS_VIA_CALL = """
import operator, functools, sys
_t = sys.modules['jupyter_revive_tracker'].api.current(); _ip = get_ipython()
for _ev, _hook in (('pre_run_cell', _t.pre_run_cell), ('post_run_cell', _t.post_run_cell)):
    _ip.events.unregister(_ev, _hook)
    _ip.events.register(_ev, functools.partial(operator.call, _hook))
_t._record = functools.partial(operator.call, _t._record)  # finished in the wait before the reply
# Not left as user names: the holders of a changed object are looked for in every user container,
# three levels deep, and the tracker and the shell would be walked after every mutating cell.
del _t, _ip, _ev, _hook
"""
WARMUP = 20
TRACKED, PLAIN = "revive-local-provisioner", "local-provisioner"
SEEDED = {"PYTHONHASHSEED": "0"}  # the same hashes, so the same work, in every run


async def replay(name: str, cells: int, before_measured: str = "") -> None:
    kernel = Bench(name)
    await kernel.start(timeout=900)
    try:
        code = small_cells(cells + WARMUP)
        await kernel.run(SETUP, timeout=900)
        for source in code[:WARMUP]:
            await kernel.run(source, timeout=900)
        if before_measured:
            _, reply = await kernel.run(before_measured, silent=True, timeout=900)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"could not re-register the hooks: {reply['content']}")
        for source in code[WARMUP:]:
            _, reply = await kernel.run(source, timeout=900)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"cell failed: {source!r}: {reply['content']}")
    finally:
        kernel.client.stop_channels()
        await kernel.km.shutdown_kernel(now=False)  # valgrind writes its file on a clean exit


def costs(path: Path) -> dict[str, int]:
    """Events of a cachegrind output summed over its functions, memcpy's Ir rescaled."""
    events: list[str] = []
    totals: dict[str, int] = {}
    function = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
            totals = dict.fromkeys(events, 0)
        elif line.startswith("fn="):
            function = line
        elif line[:1].isdigit():
            copying = "memmove" in function or "memcpy" in function or "memset" in function
            for event, value in zip(events, line.split()[1:]):  # noqa: B905 (zeros left off)
                count = int(value)
                totals[event] += count // 32 if copying and event == "Ir" else count
    return totals


def model(totals: dict[str, int]) -> dict[str, float]:
    first = totals["I1mr"] + totals["D1mr"] + totals["D1mw"]
    last = totals["ILmr"] + totals["DLmr"] + totals["DLmw"]
    return {
        "Ir": totals["Ir"],
        "L1 misses": first,
        "LL misses": last,
        "cycles": totals["Ir"] + 10 * first + 40 * last,
    }


def callgrind_costs(path: Path) -> dict[str, int]:
    """The totals of a callgrind run that collected inside the toggled function only (its
    few memcpy bytes are left as counted)."""
    events: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith(("summary:", "totals:")):
            return dict(zip(events, map(int, line.split()[1:])))  # noqa: B905
    raise SystemExit(f"no totals in {path}")


async def hooks_figure(root: Path, out: Path, cells: int) -> dict[str, float]:
    tool = [
        "valgrind",
        "--tool=callgrind",
        "--cache-sim=yes",
        *CACHES,
        "--collect-atstart=no",
        "--toggle-collect=_operator_call",
        f"--callgrind-out-file={out}",
        f"--log-file={out}.log",
    ]
    write_spec(root, "hooks", TRACKED, prefix=tool, env=SEEDED)
    await replay("hooks", cells, HOOKS_VIA_CALL)
    return {k: v / cells for k, v in model(callgrind_costs(out)).items()}


async def kernel_figures(
    root: Path, work: Path, short: int, long: int
) -> dict[bool, dict[str, float]]:
    runs = {}

    async def one(tracked: bool, cells: int) -> None:
        name = f"{'tracked' if tracked else 'plain'}-{cells}"
        out = work / f"{name}.out"
        tool = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=yes",
            *CACHES,
            f"--log-file={out}.log",
        ]
        provisioner = TRACKED if tracked else PLAIN
        write_spec(root, name, provisioner, [*tool, f"--cachegrind-out-file={out}"], SEEDED)
        await replay(name, cells)
        runs[(tracked, cells)] = model(costs(out))

    for tracked in (True, False):  # two kernels at a time: this machine has two cores
        await asyncio.gather(one(tracked, short), one(tracked, long))
    per_cell = {
        tracked: {
            k: (runs[(tracked, long)][k] - runs[(tracked, short)][k]) / (long - short)
            for k in runs[(tracked, long)]
        }
        for tracked in (True, False)
    }
    return per_cell


def show(label: str, figures: dict[str, float]) -> str:
    return f"{label}: " + ", ".join(f"{k} {v / 1000:,.1f}K" for k, v in figures.items())


async def main(cells: int, short: int, long: int, skip_kernel: bool) -> None:
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kernels"
        os.environ["JUPYTER_PATH"] = tmp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
        print("Small-cell replay under valgrind (model cycles, see the module docstring):")
        hooks = await hooks_figure(root, Path(tmp) / "hooks.out", cells)
        print("  " + show(f"tracker hooks per cell ({cells} cells)", hooks))
        if skip_kernel:
            return
        per_cell = await kernel_figures(root, Path(tmp), short, long)
        tracked, plain = per_cell[True], per_cell[False]
        print("  " + show(f"plain kernel per cell ({long} - {short} cells)", plain))
        print("  " + show("tracked kernel per cell", tracked))
        added = tracked["cycles"] - plain["cycles"]
        print(
            f"  added by the tracker per cell: {added / 1000:,.1f}K model cycles "
            f"({hooks['cycles'] / 1000:,.1f}K in its hooks); ratio "
            f"{tracked['cycles'] / plain['cycles']:.4f}   (goal <= 1.02)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200, help="cells measured in the hooks")
    parser.add_argument("--short", type=int, default=50, help="short whole-kernel replay")
    parser.add_argument("--long", type=int, default=450, help="long whole-kernel replay")
    parser.add_argument("--hooks-only", action="store_true", help="skip the whole-kernel runs")
    args = parser.parse_args()
    asyncio.run(main(args.cells, args.short, args.long, args.hooks_only))
