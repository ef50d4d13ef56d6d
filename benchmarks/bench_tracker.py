"""Tracker overhead: a 500-cell replay of small cells through real kernels, with and without it.

Run: ``.venv/bin/python benchmarks/bench_tracker.py`` (from the repository root). Prints figures;
never run as a test. Goals (issue 2): at most 1 ms median added per cell and at most 2% on the
replay; plus (issue on variables) a summary of 1,000 variables, one a 1 GB DataFrame, in 50 ms;
plus (observed effects) at most 5% on a cell that reads that 1 GB DataFrame, and (no goal) the
time added to cells that read a 36 MB frame, whose buffers a pass may hash whole.

Two kernels are started per round: one through the revive provisioner (tracker loaded), one
through jupyter_client's LocalProvisioner (no tracker). Both get the same few hundred user names
first, then the same cells are sent to both *interleaved* (A, B, A, B, ...; which goes first
alternates), so that machine noise hits both alike. A cell's time is the client's round trip:
execute_request sent to execute_reply received. ``--rounds`` (default 20) repeats this on fresh
kernel pairs (a pair of processes can be a little faster or slower by chance: single rounds
differ by +-2% on a two-vCPU VM) and pools the cells: the headline figure stays the ratio of the
medians of all per-cell times with and without the tracker, from this one run; the per-round
ratios are printed beside it, with their mean and its 95% interval (the rounds are the
independent samples, not the cells). Also
measured: kernel CPU per cell (all threads), the tracker's own hooks in-kernel (in extra cells
after the timed ones: their clocks are not in the timed cells), and a second figure from one
kernel with the tracker switched off and on in alternating blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager

ARGV = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
TRACKER = "__import__('sys').modules['jupyter_revive_tracker']"
# CPU seconds of the whole kernel process (all threads): unlike wall time, not inflated by
# other processes competing for the machine.
CPU = "__import__('time').process_time()"


def small_cells(n: int) -> list[str]:
    """Typical short notebook cells: assignments, arithmetic, small loops, defs, appends."""
    shapes = [
        "a{i} = {i}",
        "total = a{j} + {i}",
        "items.append({i})",
        "table['k{i}'] = {i} * 2",
        "squares = [k * k for k in range(50)]",
        "def f{i}(x):\n    return x + {i}",
        "text = 'row %d' % {i}",
        "total",
        "import math\nroot = math.sqrt({i})",
        "flag = {i} % 3 == 0",
    ]
    # j: the a-name bound by the cell with the same tens (always run before this one)
    return [shapes[i % len(shapes)].format(i=i, j=i - i % 10) for i in range(n)]


SETUP = (
    "items = []\ntable = {}\n"
    "for _n in range(300):\n    globals()[f'user_{_n}'] = _n\n"  # a few hundred user names
    "del _n\n"
)


def write_spec(
    root: Path, name: str, provisioner: str, prefix: Sequence[str] = (), env: Any = None
) -> None:
    """A kernelspec ``name`` under ``root``; ``prefix``: a command the kernel runs under
    (valgrind in ``bench_tracker_cycles``)."""
    spec: dict[str, Any] = {
        "argv": [*prefix, *ARGV],
        "display_name": name,
        "language": "python",
        "metadata": {"kernel_provisioner": {"provisioner_name": provisioner}},
    }
    if env:
        spec["env"] = env
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


class Bench:
    def __init__(self, kernel_name: str) -> None:
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        self.client: Any = None

    async def start(self, timeout: float = 60) -> None:
        await self.km.start_kernel()
        self.client = self.km.client()
        self.client.start_channels(iopub=False, stdin=False, hb=False, control=False)
        await self.client.wait_for_ready(timeout=timeout)

    async def run(
        self, code: str, silent: bool = False, timeout: float = 60, **extra: Any
    ) -> tuple[float, dict]:
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": extra.get("user_expressions", {}),
            "allow_stdin": False,
            "stop_on_error": False,
        }
        msg = self.client.session.msg("execute_request", content, metadata={"cellId": "bench"})
        t0 = time.perf_counter()
        self.client.shell_channel.send(msg)
        while True:
            reply = await self.client.shell_channel.get_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return (time.perf_counter() - t0) * 1000.0, reply

    async def eval(self, expression: str) -> Any:
        import ast

        _, reply = await self.run("", silent=True, user_expressions={"e": expression})
        result = reply["content"]["user_expressions"]["e"]
        if result["status"] != "ok":
            raise RuntimeError(result)
        return ast.literal_eval(result["data"]["text/plain"])

    async def stop(self) -> None:
        self.client.stop_channels()
        await self.km.shutdown_kernel(now=True)


TOGGLE_OFF = "__import__('sys').modules['jupyter_revive_tracker'].api.current().stop()"
TOGGLE_ON = "__import__('sys').modules['jupyter_revive_tracker'].api.current().start()"


async def same_kernel(cells: int, block: int) -> None:
    """One tracked kernel, tracker switched off and on (silently) in alternating blocks."""
    kernel = Bench("bench-tracker")
    await kernel.start()
    try:
        await kernel.run(SETUP)
        code = small_cells(cells * 2 + 20)
        for source in code[:20]:
            await kernel.run(source)
        times: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, float] = {True: 0.0, False: 0.0}
        on = True
        for start in range(20, len(code), block):
            want = (start // block) % 2 == 0
            if want != on:
                _, reply = await kernel.run(TOGGLE_ON if want else TOGGLE_OFF, silent=True)
                if reply["content"]["status"] != "ok":
                    raise SystemExit(f"toggle failed: {reply['content']}")
                on = want
            before = await kernel.eval(CPU)
            for source in code[start : start + block]:
                ms, _ = await kernel.run(source)
                times[on].append(ms)
            cpu[on] += await kernel.eval(CPU) - before
        n = min(len(times[True]), len(times[False]))
        print(
            f"Same kernel, tracker on/off in alternating blocks of {block} cells ({n} cells each):"
        )
        report(times[True][:n], times[False][:n], paired=False)
        cpu_on, cpu_off = (cpu[s] * 1000.0 / len(times[s]) for s in (True, False))
        print(
            f"  kernel CPU per cell: {cpu_on:.3f} ms on, {cpu_off:.3f} ms off: "
            f"{cpu_on - cpu_off:+.3f} ms, ratio {cpu_on / cpu_off:.4f}"
        )
    finally:
        await kernel.stop()


HOOK_TIMING = """
def _revive_hook_timing(n):
    import time
    from types import SimpleNamespace
    t = __import__('sys').modules['jupyter_revive_tracker'].api.current()
    ip = get_ipython()
    saved = (t._request, t.seq, list(t.ledger), t.dropped)
    samples = []
    for i in range(n):
        info = SimpleNamespace(raw_cell='x = 1', cell_id='c')
        result = SimpleNamespace(info=info, success=True, execution_count=1)
        t0 = time.perf_counter()
        t.pre_run_cell(info)
        ip.user_ns['bench_name'] = object()  # one rebinding per "cell"
        t.post_run_cell(result)
        samples.append((time.perf_counter() - t0) * 1e6)
    t._request, t.seq, t.dropped = saved[0], saved[1], saved[3]
    t.ledger.clear(); t.ledger.extend(saved[2])
    ip.user_ns.pop('bench_name', None)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.9)]
exec_result = _revive_hook_timing(%d)
del _revive_hook_timing
"""


# The tracker's registered hooks, re-registered inside CPU clocks of the thread running them:
# what they cost on the replay's real cells (cold caches between cells), unlike HOOK_TIMING's
# warm loop, and unlike wall time not inflated by other processes (machine noise). Installed
# only for extra cells after the timed replay (``hook_cpu``), and taken off again: the clocks
# are system calls, and wrapped around every hook they added +46 +- 45 us (16 rounds A/B) to
# each tracked cell here.
HOOK_CPU = """
def _revive_time_hooks():
    import time
    t = __import__('sys').modules['jupyter_revive_tracker'].api.current()
    ip = get_ipython()
    spent = [0, 0, 0]  # ns in the hooks, hook calls, ns finishing records
    clock = time.thread_time_ns
    def timed(hook):
        def run(arg):
            t0 = clock()
            hook(arg)
            spent[0] += clock() - t0
            spent[1] += 1
        return run
    hooks = [('pre_run_cell', t.pre_run_cell), ('post_run_cell', t.post_run_cell)]
    wrapped = [(event, hook, timed(hook)) for event, hook in hooks]
    for event, hook, run in wrapped:
        ip.events.unregister(event, hook)
        ip.events.register(event, run)
    record = t._record  # records are finished in the kernel's wait before its reply
    def finished(*args):
        t0 = clock()
        record(*args)
        spent[2] += clock() - t0
    t._record = finished
    def undo():
        t.settle()
        for event, hook, run in wrapped:
            ip.events.unregister(event, run)
            ip.events.register(event, hook)
        del t._record
        return spent
    return undo
_revive_hook_cpu = _revive_time_hooks()
del _revive_time_hooks
"""
HOOK_CPU_CELLS = 100


async def hook_cpu(tracked: Bench, code: list[str]) -> tuple[int, int, int]:
    """(ns in the hooks, hook calls, ns finishing records) over ``code`` run in ``tracked``
    alone, the hooks inside CPU clocks (``HOOK_CPU``) and put back as they were after."""
    _, reply = await tracked.run(HOOK_CPU, silent=True)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"could not time the hooks: {reply['content']}")
    for source in code:
        await tracked.run(source)
    spent: tuple[int, int, int] = await tracked.eval("_revive_hook_cpu()")
    await tracked.run("del _revive_hook_cpu", silent=True)
    return spent


async def replay(
    tracked: Bench, plain: Bench, code: list[str], warmup: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """One interleaved replay on a fresh kernel pair: per-cell round trips and kernel CPU."""
    for k in (tracked, plain):
        await k.run(SETUP)
    for source in code[:warmup]:
        for kernel in (tracked, plain):
            await kernel.run(source)
    cpu_before = [await k.eval(CPU) for k in (tracked, plain)]
    times: dict[str, list[float]] = {"tracker": [], "plain": []}
    for i, source in enumerate(code[warmup:]):
        # Alternate which kernel goes first so neither always runs on a "cold" turn.
        order = [("tracker", tracked), ("plain", plain)]
        if i % 2:
            order.reverse()
        for label, kernel in order:
            ms, reply = await kernel.run(source)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"cell failed in {label}: {source!r}: {reply['content']}")
            times[label].append(ms)
    cpu_after = [await k.eval(CPU) for k in (tracked, plain)]
    cpu = {
        label: after - before
        for label, after, before in zip(("tracker", "plain"), cpu_after, cpu_before)  # noqa: B905
    }
    spent_ns, calls, finisher_ns = await hook_cpu(tracked, code[warmup:][:HOOK_CPU_CELLS])
    cpu["hooks"] = (spent_ns + finisher_ns) / 1e9
    cpu["finisher"] = finisher_ns / 1e9
    cpu["hook_calls"] = calls
    return times, cpu


async def main(cells: int, warmup: int, frame_gb: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kernels = Path(tmp) / "kernels"
        write_spec(kernels, "bench-tracker", "revive-local-provisioner")
        write_spec(kernels, "bench-plain", "local-provisioner")
        os.environ["JUPYTER_PATH"] = tmp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
        code = small_cells(cells + warmup)
        times: dict[str, list[float]] = {"tracker": [], "plain": []}
        cpu = {"tracker": 0.0, "plain": 0.0, "hooks": 0.0, "finisher": 0.0, "hook_calls": 0.0}
        ratios = []
        print(
            f"Replay: {cells} small cells (+{warmup} warm-up) per kernel, interleaved, "
            f"{rounds} round(s) on fresh kernel pairs;"
        )
        for round_no in range(rounds):
            tracked, plain = Bench("bench-tracker"), Bench("bench-plain")
            await asyncio.gather(tracked.start(), plain.start())
            try:
                if not await tracked.eval("'jupyter_revive_tracker' in __import__('sys').modules"):
                    raise SystemExit(
                        "the tracker did not load: is jupyter-revive installed (pip -e .)?"
                    )
                if await plain.eval("'jupyter_revive_tracker' in __import__('sys').modules"):
                    raise SystemExit("the plain kernel has a tracker")
                round_times, round_cpu = await replay(tracked, plain, code, warmup)
                for label in times:
                    times[label] += round_times[label]
                for label in cpu:
                    cpu[label] += round_cpu[label]
                ratios.append(
                    statistics.median(round_times["tracker"])
                    / statistics.median(round_times["plain"])
                )
                if round_no < rounds - 1:
                    continue
                recorded = await tracked.eval(f"{TRACKER}.api.current().seq")
                names = await tracked.eval("len(get_ipython().user_ns)")
                print(
                    f"  namespace: {names} names at the end (IPython adds _iN per cell); "
                    f"tracker recorded {recorded} executions"
                )
                report(times["tracker"], times["plain"])
                print(
                    "  ratio of medians per round           " + " ".join(f"{r:.4f}" for r in ratios)
                )
                mean, half = interval(ratios)
                print(
                    f"  mean of the rounds' ratios           {mean:8.4f} +- {half:.4f}  (95% "
                    "interval: kernel pairs differ by chance, so rounds are the samples)"
                )
                cpu_t, cpu_p = (cpu[label] * 1000.0 / (cells * rounds) for label in times)
                print(
                    f"  kernel CPU per cell: {cpu_t:.3f} ms with, {cpu_p:.3f} ms without tracker: "
                    f"{cpu_t - cpu_p:+.3f} ms, ratio {cpu_t / cpu_p:.4f}"
                )
                timed_cells = min(cells, HOOK_CPU_CELLS) * rounds
                hooks_ms = cpu["hooks"] * 1000.0 / timed_cells
                finisher_ms = cpu["finisher"] * 1000.0 / timed_cells
                print(
                    f"  tracker hooks' CPU per cell ({timed_cells} cells after the timed ones, "
                    "thread clock, pre+post and records, "
                    f"{cpu['hook_calls']:.0f} calls): {hooks_ms * 1000:.1f} us "
                    f"({hooks_ms / statistics.median(times['plain']) * 100:.2f}% of the median "
                    f"plain cell), of which {finisher_ms * 1000:.1f} us finishing records in "
                    "the kernel's wait before its reply"
                )
                await tracked.run(HOOK_TIMING % 2000, silent=True)
                median_us, p90_us = await tracked.eval("exec_result")
                await tracked.run("del exec_result", silent=True)
                print(
                    f"  in-kernel hook cost (pre+post, {names} names): median {median_us:.1f} us, "
                    f"p90 {p90_us:.1f} us"
                )
                await mid_frame_figure(tracked, plain)
                if frame_gb > 0:
                    await variables_figure(tracked, frame_gb)
                    await frame_cell_figure(tracked)
            finally:
                await asyncio.gather(tracked.stop(), plain.stop())
        await same_kernel(cells, block=10)
        await ledger_memory_figure(small_cells(200))


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (beyond: ~1.96).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def interval(samples: list[float]) -> tuple[float, float]:
    """(mean, half width of its 95% confidence interval); 0 width for a single sample."""
    mean = statistics.fmean(samples)
    if len(samples) < 2:
        return mean, 0.0
    t = _T95[len(samples) - 2] if len(samples) - 1 <= len(_T95) else 1.96
    return mean, t * statistics.stdev(samples) / len(samples) ** 0.5


def trimmed_mean(values: list[float], cut: float = 0.1) -> float:
    ordered = sorted(values)
    k = int(len(ordered) * cut)
    return statistics.fmean(ordered[k : len(ordered) - k])


def report(tracked: list[float], plain: list[float], paired: bool = True) -> None:
    med_t, med_p = statistics.median(tracked), statistics.median(plain)
    tm_t, tm_p = trimmed_mean(tracked), trimmed_mean(plain)
    total_t, total_p = sum(tracked), sum(plain)
    print(f"  median round trip, with tracker      {med_t:8.3f} ms")
    print(f"  median round trip, without tracker   {med_p:8.3f} ms")
    print(f"  median added per cell                {med_t - med_p:+8.3f} ms  (goal <= 1 ms)")
    if paired:
        diffs = [t - p for t, p in zip(tracked, plain, strict=True)]
        print(f"  median of paired differences         {statistics.median(diffs):+8.3f} ms")
    print(f"  ratio of medians                     {med_t / med_p:8.4f}   (goal <= 1.02)")
    print(f"  ratio of 10%-trimmed means           {tm_t / tm_p:8.4f}")
    print(f"  ratio of replay totals               {total_t / total_p:8.4f}   (outliers included)")


async def variables_figure(kernel: Bench, frame_gb: float) -> None:
    rows = int(frame_gb * 1e9 / (8 * 12))
    t0 = time.perf_counter()
    _, reply = await kernel.run(
        "import numpy as _np, pandas as _pd\n"
        f"big = _pd.DataFrame(_np.random.default_rng(0).random(({rows}, 12)),"
        " columns=[f'metric_{i}' for i in range(12)])\n"
        "for _n in range(1000 - 300 - 1):\n    globals()[f'more_{_n}'] = [_n] * 3\n",
        silent=True,
    )
    built = time.perf_counter() - t0
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"could not build the frame: {reply['content']}")
    size = await kernel.eval("float(big.memory_usage(deep=False).sum() / 1e9)")
    samples_in, samples_rt = [], []
    answer: dict[str, Any] = {}
    for _ in range(7):
        t0 = time.perf_counter()
        answer = json.loads(await kernel.eval(f"{TRACKER}.variables_json()"))
        samples_rt.append((time.perf_counter() - t0) * 1000.0)
        samples_in.append(answer["elapsed_ms"])
    t0 = time.perf_counter()
    detail = json.loads(await kernel.eval(f"{TRACKER}.variables_json(names=['big'], detail=True)"))
    detail_ms = (time.perf_counter() - t0) * 1000.0
    print(
        f"Variables summary: {answer['total']} user variables, one a {size:.2f} GB DataFrame "
        f"(built in {built:.1f} s); {len(answer['variables'])} listed"
    )
    print(
        f"  in-kernel variables_json()  median {statistics.median(samples_in):7.2f} ms  "
        f"(goal <= 50 ms)"
    )
    print(f"  round trip (silent execute) median {statistics.median(samples_rt):7.2f} ms")
    print(
        f"  detail=True for the frame   {detail_ms:7.1f} ms round trip "
        f"({len(detail['variables'][0].get('detail', ''))} chars)"
    )


MID_FRAME = (
    "import numpy as _np, pandas as _pd\n"
    "_rng = _np.random.default_rng(0)\n"
    "mid = _pd.DataFrame(_rng.random((500_000, 8)), columns=[f'c{_i}' for _i in range(8)])\n"
    "mid['k'] = _rng.integers(0, 100, len(mid))\n"
    "del _rng\n"
)
MID_CELLS = ("m = mid['c0'].mean()", "g = mid.groupby('k')['c1'].sum()")


async def mid_frame_figure(tracked: Bench, plain: Bench, repeats: int = 25) -> None:
    """Cells that read a 36 MB frame (a 32 MB float block, a 4 MB int block), run one after the
    other in both kernels, interleaved: buffers hashed whole up to ``changes.HASH_BYTES`` per
    pass (the int block, whose checksum the next cell reuses), sampled beyond (the float
    block). Hashing all of it would cost ~9 ms per pass."""
    for kernel in (tracked, plain):
        _, reply = await kernel.run(MID_FRAME, silent=True)
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"could not build the frame: {reply['content']}")
    print("Cells reading a 36 MB frame, one after the other, interleaved with a plain kernel:")
    for cell in MID_CELLS:
        times: dict[str, list[float]] = {"tracker": [], "plain": []}
        for i in range(repeats * 2):
            label = "tracker" if i % 2 == (i // 2) % 2 else "plain"  # which goes first alternates
            ms, reply = await (tracked if label == "tracker" else plain).run(cell)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"frame cell failed: {reply['content']}")
            times[label].append(ms)
        on, off = statistics.median(times["tracker"]), statistics.median(times["plain"])
        print(
            f"  `{cell}`: median with tracker {on:6.2f} ms, without {off:6.2f} ms "
            f"(+{on - off:5.2f} ms, ratio {on / off:6.3f})"
        )
    for kernel in (tracked, plain):
        await kernel.run("del mid, m, g", silent=True)


async def frame_cell_figure(kernel: Bench, repeats: int = 30) -> None:
    """A cell that reads the 1 GB frame (``big``, from ``variables_figure``), tracker on and
    off in alternation in the same kernel: the cost of fingerprinting it before and after
    (under 1 ms: sampled beyond ``changes.FULL_BYTES``). The cell itself varies by +-5% from
    run to run (memory bandwidth), hence the repeats."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeats * 2):
        on = i % 2 == 0
        await kernel.run(TOGGLE_ON if on else TOGGLE_OFF, silent=True)
        ms, reply = await kernel.run("means = big.mean()")
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"frame cell failed: {reply['content']}")
        times[on].append(ms)
    await kernel.run(TOGGLE_ON, silent=True)
    on_ms, off_ms = statistics.median(times[True]), statistics.median(times[False])
    print("Cell reading the 1 GB frame (`means = big.mean()`), tracker on/off alternating:")
    print(f"  median with tracker {on_ms:8.1f} ms, without {off_ms:8.1f} ms")
    print(f"  ratio                {on_ms / off_ms:8.4f}   (goal <= 1.05)")


LEDGER_MEMORY = """
def _revive_ledger_memory(cells, workdir):
    import os, tracemalloc
    t = __import__('sys').modules['jupyter_revive_tracker'].api.current()
    ip = get_ipython()
    cap = t.ledger.maxlen
    t.ledger.clear()
    package = os.path.dirname(__import__('sys').modules[type(t).__module__].__file__)
    tracemalloc.start(4)
    for i in range(cap):
        source = cells[i %% len(cells)]
        if i %% 10 == 3:  # a tenth of the cells write and read a file
            out = os.path.join(workdir, 'out_%%d.csv' %% (i %% 50))
            source = (f"with open({out!r}, 'w') as _f:\\n    _f.write('x')\\n"
                      f"with open({os.path.join(workdir, 'in.csv')!r}) as _f:\\n"
                      f"    data_{i %% 50} = _f.read()")
        ip.run_cell(source, store_history=False)
    t.settle()  # the last record waits for a reply that only comes after this function
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, os.path.join(package, '*'), all_frames=True)]
    )
    tracemalloc.stop()
    held = sum(stat.size for stat in snap.statistics('filename'))
    return len(t.ledger), held
exec_result = _revive_ledger_memory(%r, %r)
del _revive_ledger_memory
"""


async def ledger_memory_figure(cells: list[str]) -> None:
    """Tracker memory with the ledger at its cap: ``MAX_RECORDS`` executions of small cells (a
    tenth writing and reading files) run in a fresh kernel, allocations traced to the tracker
    package's code and still alive counted (records, their name and path lists)."""
    kernel = Bench("bench-tracker")
    await kernel.start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            Path(workdir, "in.csv").write_text("a,b\n1,2\n", encoding="utf-8")
            await kernel.run(SETUP)
            _, reply = await kernel.run(LEDGER_MEMORY % (cells, workdir), silent=True, timeout=600)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"ledger memory run failed: {reply['content']}")
            records, held = await kernel.eval("exec_result")
        print(f"Tracker memory with the ledger at its cap ({records:,} records):")
        print(f"  held by the tracker  {held / 1e6:8.2f} MB   (goal <= 20 MB)")
    finally:
        await kernel.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500, help="measured cells per kernel")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured cells first")
    parser.add_argument(
        "--frame-gb", type=float, default=1.0, help="DataFrame size for the summary (0: skip)"
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="replays on fresh kernel pairs, pooled"
    )
    args = parser.parse_args()
    asyncio.run(main(args.cells, args.warmup, args.frame_gb, args.rounds))
