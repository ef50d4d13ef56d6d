"""Where the tracker's added round trip goes: the small-cell replay cut into segments.

Run: ``.venv/bin/python -m benchmarks.bench_tracker_segments`` (from the repository root).
Prints figures; never run as a test.

``bench_tracker.py`` gives the added time per cell as one figure. Here three kernels take the
same cells in rotating order: one plain (jupyter_client's LocalProvisioner), two tracked (the
revive provisioner), of which the second runs a *variant* (``--variant``; default ``no-reply``:
records are made but none is put in a reply), so that a change's effect shows beside the
tracker's own in the same run. Every kernel stamps ``time.perf_counter()`` (the same monotonic
clock in every process of the machine) at points of each ``execute_request``: the handler's
entry, ``init_metadata``, IPython's ``run_cell`` (the tracker's hooks run inside it), the
flushes of stdout and stderr, ``finish_metadata`` (ipykernel's 0.5 ms wait is before it in a
plain kernel, inside it in a tracked one: the record is finished there) and the handler's exit;
the client stamps the request's send and its reply's arrival. The median of each segment is
printed per kernel, with the tracked kernels' differences from the plain one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_tracker import SETUP, Bench, small_cells, write_spec

STAMPS = """
def _revive_stamps():
    import sys, time
    now = time.perf_counter
    kernel = get_ipython().kernel
    shell = get_ipython()
    stamps, current = {}, [None]

    def stamp(point):
        points = stamps.get(current[0])
        if points is not None and point not in points:
            points[point] = now()

    handler = kernel.shell_handlers["execute_request"]

    async def execute_request(stream, ident, parent):
        current[0] = parent["header"]["msg_id"]
        stamps[current[0]] = {"entry": now()}
        try:
            return await handler(stream, ident, parent)
        finally:
            stamp("exit")

    kernel.shell_handlers["execute_request"] = execute_request
    init, finish = kernel.init_metadata, kernel.finish_metadata

    def init_metadata(*args, **kwargs):
        stamp("init_metadata")
        return init(*args, **kwargs)

    def finish_metadata(*args, **kwargs):
        stamp("finish_metadata")
        try:
            return finish(*args, **kwargs)
        finally:
            stamp("finished")

    kernel.init_metadata, kernel.finish_metadata = init_metadata, finish_metadata
    run_cell = shell.run_cell_async

    async def run_cell_async(*args, **kwargs):
        stamp("run_cell")
        try:
            return await run_cell(*args, **kwargs)
        finally:
            stamp("ran")

    shell.run_cell_async = run_cell_async
    out, err = sys.stdout.flush, sys.stderr.flush

    def flush_out():
        stamp("flush")
        try:
            return out()
        finally:
            stamp("flushed stdout")

    def flush_err():
        try:
            return err()
        finally:
            stamp("flushed stderr")

    sys.stdout.flush, sys.stderr.flush = flush_out, flush_err
    return stamps


_revive_stamps_taken = _revive_stamps()
del _revive_stamps
"""
POINTS = [
    "entry",
    "init_metadata",
    "run_cell",
    "ran",
    "flush",
    "flushed stdout",
    "flushed stderr",
    "finish_metadata",
    "finished",
    "exit",
]
TRACKER = "__import__('sys').modules['jupyter_revive_tracker'].api.current()"
VARIANTS = {
    "same": "",
    # records made, none put in a reply: what carrying them costs
    "no-reply": (
        f"_t = {TRACKER}\n"
        "class _NoReply(dict):\n"
        "    def pop(self, key, default=None):\n"
        "        dict.pop(self, key, None)\n"
        "        return None\n"
        "_t._replies = _NoReply()\n"
        "del _t\n"
    ),
    # each reply carries the same constant record instead of its own (what its size costs)
    "constant-reply": (
        f"_t = {TRACKER}\n"
        "class _Constant(dict):\n"
        "    record = None\n"
        "    def pop(self, key, default=None):\n"
        "        found = dict.pop(self, key, None)\n"
        "        if found is not None and _Constant.record is None:\n"
        "            _Constant.record = __import__('json').loads(__import__('json').dumps(found))\n"
        "        return _Constant.record if found is not None else None\n"
        "_t._replies = _Constant()\n"
        "del _t\n"
    ),
    # each reply carries its record as one JSON string (what encoding its fields costs)
    "string-reply": (
        f"_t = {TRACKER}\n"
        "class _Text(dict):\n"
        "    def pop(self, key, default=None):\n"
        "        found = dict.pop(self, key, None)\n"
        "        return None if found is None else __import__('json').dumps(found)\n"
        "_t._replies = _Text()\n"
        "del _t\n"
    ),
    # each reply carries only its record's position (what the record's fields cost)
    "tiny-reply": (
        f"_t = {TRACKER}\n"
        "class _Tiny(dict):\n"
        "    def pop(self, key, default=None):\n"
        "        found = dict.pop(self, key, None)\n"
        "        return None if found is None else {'seq': found['seq']}\n"
        "_t._replies = _Tiny()\n"
        "del _t\n"
    ),
    # the hooks taken off (the wrappers and the wait kept)
    "no-hooks": (
        f"_t = {TRACKER}\n"
        "get_ipython().events.unregister('pre_run_cell', _t.pre_run_cell)\n"
        "get_ipython().events.unregister('post_run_cell', _t.post_run_cell)\n"
        "del _t\n"
    ),
    # the tracker unloaded (hooks, file wrappers and events, the wait given back): what a kernel
    # launched by the revive provisioner costs without tracking. (The reply hook stays, inside
    # the stamps' wrapper of it, and only passes the metadata on.)
    "unloaded": (
        "__import__('sys').modules['jupyter_revive_tracker']"
        ".unload_ipython_extension(get_ipython())\n"
    ),
    # hooks off, and a stand-in CPU load (``--load-us``) at the start of the wait: what work
    # there costs the reply, whatever the work is
    "load-in-wait": (
        f"_t = {TRACKER}\n"
        "get_ipython().events.unregister('pre_run_cell', _t.pre_run_cell)\n"
        "get_ipython().events.unregister('post_run_cell', _t.post_run_cell)\n"
        "def _load(_t=_t, _time=__import__('time'), _os=__import__('os')):\n"
        "    end = _time.perf_counter() + float(_os.environ['REVIVE_BENCH_LOAD_US']) * 1e-6\n"
        "    while _time.perf_counter() < end:\n"
        "        pass\n"
        "_t._finisher.settle = _load\n"
        "del _t, _load\n"
    ),
    # hooks off, and the same load right after the reply is sent (it reaches the client through
    # ipykernel's shell-channel thread, which needs the interpreter lock)
    "load-after-reply": (
        f"_t = {TRACKER}\n"
        "get_ipython().events.unregister('pre_run_cell', _t.pre_run_cell)\n"
        "get_ipython().events.unregister('post_run_cell', _t.post_run_cell)\n"
        "def _patch(k=get_ipython().kernel, _time=__import__('time'), _os=__import__('os')):\n"
        "    send = k.session.send\n"
        "    load = float(_os.environ['REVIVE_BENCH_LOAD_US']) * 1e-6\n"
        "    def sent(stream, msg_or_type, *args, **kwargs):\n"
        "        result = send(stream, msg_or_type, *args, **kwargs)\n"
        "        if msg_or_type == 'execute_reply':\n"
        "            end = _time.perf_counter() + load\n"
        "            while _time.perf_counter() < end:\n"
        "                pass\n"
        "        return result\n"
        "    k.session.send = sent\n"
        "_patch()\n"
        "del _t, _patch\n"
    ),
}
KERNELS = ("plain", "tracked", "variant")


async def timed(kernel: Bench, code: str) -> tuple[str, float, float]:
    """(the request's msg_id, when it was sent, when its reply arrived) on the client's clock."""
    ms, reply = await kernel.run(code)
    arrived = time.perf_counter()
    return reply["parent_header"]["msg_id"], arrived - ms / 1000.0, arrived


async def must(kernel: Bench, code: str) -> None:
    _, reply = await kernel.run(code, silent=True)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"setup failed: {reply['content']}")


async def one_round(
    code: list[str], warmup: int, variant: str, segments: dict[str, dict[str, list[float]]]
) -> None:
    kernels = dict(zip(KERNELS, (Bench("p"), Bench("t"), Bench("t")), strict=True))
    await asyncio.gather(*(k.start() for k in kernels.values()))
    try:
        for kernel in kernels.values():
            await kernel.run(SETUP)
        for cell in code[:warmup]:
            for kernel in kernels.values():
                await kernel.run(cell)
        for kernel in kernels.values():
            await must(kernel, STAMPS)
        await must(kernels["variant"], VARIANTS[variant])
        sent: dict[str, list[tuple[str, float, float]]] = {name: [] for name in KERNELS}
        for i, cell in enumerate(code[warmup:]):
            order = list(KERNELS[i % 3 :] + KERNELS[: i % 3])
            for name in order:
                sent[name].append(await timed(kernels[name], cell))
        for name, kernel in kernels.items():
            ids = [msg_id for msg_id, _, _ in sent[name]]
            stamps: dict[str, dict[str, float]] = await kernel.eval(
                f"{{k: _revive_stamps_taken[k] for k in {ids!r} if k in _revive_stamps_taken}}"
            )
            for msg_id, start, end in sent[name]:
                points = stamps.get(msg_id, {})
                if any(p not in points for p in POINTS):
                    continue
                times = [("send", start), *((p, points[p]) for p in POINTS), ("reply", end)]
                for (a, ta), (b, tb) in itertools.pairwise(times):
                    segments[name].setdefault(f"{a} -> {b}", []).append(tb - ta)
                segments[name].setdefault("round trip", []).append(end - start)
    finally:
        await asyncio.gather(*(k.stop() for k in kernels.values()))


async def main(cells: int, warmup: int, rounds: int, variant: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_spec(Path(tmp) / "kernels", "t", "revive-local-provisioner")
        write_spec(Path(tmp) / "kernels", "p", "local-provisioner")
        os.environ["JUPYTER_PATH"] = tmp
        code = small_cells(cells + warmup)
        segments: dict[str, dict[str, list[float]]] = {name: {} for name in KERNELS}
        for _ in range(rounds):
            await one_round(code, warmup, variant, segments)
    print(
        f"Replay: {cells} small cells x {rounds} round(s), three kernels in rotating order; "
        f"variant: {variant}"
    )
    print(f"  {'segment (medians, us)':36} {'plain':>8} {'tracked':>8} {'variant':>8}  "
          f"{'tracked-plain':>13} {'variant-plain':>13}")  # fmt: skip
    for key in segments["plain"]:
        plain, tracked, other = (statistics.median(segments[name][key]) * 1e6 for name in KERNELS)
        print(
            f"  {key:36} {plain:8.1f} {tracked:8.1f} {other:8.1f}  "
            f"{tracked - plain:+13.1f} {other - plain:+13.1f}"
        )
    n = len(segments["plain"].get("round trip", []))
    print(f"  ({n} cells per kernel; a plain kernel waits in 'flushed stderr -> finish_metadata',")
    print("   a tracked one in 'finish_metadata -> finished', where it finishes the record)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500, help="measured cells per kernel")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured cells first")
    parser.add_argument("--rounds", type=int, default=4, help="replays on fresh kernels")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="no-reply")
    parser.add_argument("--load-us", type=float, default=250, help="the load variants' load")
    args = parser.parse_args()
    os.environ["REVIVE_BENCH_LOAD_US"] = str(args.load_us)  # (the kernels inherit it)
    asyncio.run(main(args.cells, args.warmup, args.rounds, args.variant))
