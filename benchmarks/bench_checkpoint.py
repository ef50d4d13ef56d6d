"""Checkpoints: restore from a checkpoint vs replaying the plan vs restart-and-run-all, on a real
pipeline (a frame, cleaning, a random forest, predictions), in real kernels; plus write and load
speed against plain file I/O of the same bytes, the cost of an automatic checkpoint after the
training cell, and peak memory while checkpointing a 1 GB frame.

Run: ``.venv/bin/python benchmarks/bench_checkpoint.py`` (from the repository root). Prints
figures; never run as a test. Goals (issue 10): restore ≤ 5% of re-run-all with signing on,
automatic checkpoints ≤ 5% of the cell they follow, load ≥ 50% of a plain read's speed, peak
memory while checkpointing a 1 GB frame ≤ 10% of the frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_tracker import Bench, write_spec
from jupyter_revive.checkpoint import sign, signing_key, verify

TRACKER = "__import__('sys').modules['jupyter_revive_tracker']"
IMPORTS = (
    "import numpy as np\nimport pandas as pd\nfrom sklearn.ensemble import RandomForestRegressor"
)


def pipeline(rows: int, trees: int) -> list[str]:
    return [
        IMPORTS,
        "rng = np.random.default_rng(0)\n"
        f"df = pd.DataFrame(rng.random(({rows}, 8)), columns=[f'f{{i}}' for i in range(8)])\n"
        "df['y'] = df.f0 * 3 + df.f1 ** 2 + rng.normal(0, 0.1, len(df))",
        "cleaned = df[df.f2 > 0.05].reset_index(drop=True)",
        "features = cleaned.drop(columns='y')",
        f"model = RandomForestRegressor(n_estimators={trees}, max_depth=12, random_state=0)\n"
        "model.fit(features, cleaned.y)",
        "predictions = model.predict(features)",
        "print(float(np.abs(predictions - cleaned.y).mean()))",
    ]


async def run_cells(kernel: Bench, cells: list[str]) -> list[float]:
    times = []
    for source in cells:
        ms, reply = await kernel.run(source, timeout=3600)
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"cell failed: {source!r}: {reply['content']}")
        times.append(ms / 1000.0)
    return times


async def tracker(kernel: Bench, call: str) -> dict[str, Any]:
    return dict(json.loads(await kernel.eval(f"{TRACKER}.{call}")))


async def main(rows: int, trees: int, frame_gb: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_spec(root / "kernels", "bench-tracker", "revive-local-provisioner")
        os.environ["JUPYTER_PATH"] = tmp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
        cells = pipeline(rows, trees)
        key = signing_key(root / "key")

        # 1. The original session: run everything, checkpoint after training (automatic) and
        #    at the end (what a restore loads).
        first = Bench("bench-tracker")
        await first.start()
        try:
            times = await run_cells(first, cells[:5])
            auto = await tracker(first, f"checkpoint_json({str(root / 'auto')!r}, names=['model'])")
            times += await run_cells(first, cells[5:])
            full = await tracker(first, f"checkpoint_json({str(root / 'full')!r})")
            raw = await raw_io_figure(first, root, full["bytes"])
        finally:
            await first.stop()
        t0 = time.perf_counter()
        signed = sign({"notebook": "bench", "groups": full["groups"]}, key)
        sign_ms = (time.perf_counter() - t0) * 1000

        # 2. Restart and run all, in a fresh kernel.
        second = Bench("bench-tracker")
        await second.start()
        try:
            t0 = time.perf_counter()
            await run_cells(second, cells)
            rerun_all = time.perf_counter() - t0
        finally:
            await second.stop()

        # 3. Restore from the checkpoint: verify, replay the imports, load.
        third = Bench("bench-tracker")
        await third.start()
        try:
            t0 = time.perf_counter()
            manifest = verify(signed, key, "bench")
            await run_cells(third, [IMPORTS])
            groups = json.dumps(manifest["groups"])
            loaded = await tracker(third, f"load_json({str(root / 'full')!r}, {groups!r})")
            restore = time.perf_counter() - t0
            check = await third.eval("float(np.abs(predictions - cleaned.y).mean())")
        finally:
            await third.stop()
        if loaded["refused"]:
            raise SystemExit(f"load refused: {loaded['refused']}")
        # The plan without checkpoints replays every cell but the print: as good as it gets.
        replay = sum(times[:-1])

        print(
            f"Pipeline: {rows:,} rows x 8 features, random forest of {trees} trees; "
            f"cells took {', '.join(f'{t:.2f}' for t in times)} s"
        )
        print(
            f"  checkpoint: {full['bytes'] / 1e6:.1f} MB in {len(full['groups'])} groups, "
            f"written in {full['ms'] / 1000:.2f} s; signing the manifest {sign_ms:.2f} ms"
        )
        print(f"  restart and run all          {rerun_all:8.2f} s")
        print(f"  replay of the plan           {replay:8.2f} s   (no checkpoint)")
        print(f"  restore from the checkpoint  {restore:8.2f} s   (verify + imports + load; "
              f"in-kernel load {loaded['ms'] / 1000:.2f} s)")  # fmt: skip
        print(f"  restore / run all            {restore / rerun_all:8.4f}   (goal <= 0.05)")
        print(f"  restored mean error {check:.4f} (same model: same predictions)")
        training = times[4]
        print(
            f"  automatic checkpoint of `model` after the training cell: "
            f"{auto['ms'] / 1000:.3f} s = {auto['ms'] / 1000 / training:.4f} of the cell's "
            f"{training:.2f} s   (goal <= 0.05)"
        )
        print(
            f"  write {raw['write_mb_s']:.0f} MB/s vs plain write "
            f"{raw['plain_write_mb_s']:.0f} MB/s; "
            f"load {raw['load_mb_s']:.0f} MB/s vs plain read {raw['plain_read_mb_s']:.0f} MB/s: "
            f"{raw['load_mb_s'] / raw['plain_read_mb_s']:.2f}   (goal >= 0.5)"
        )
        if frame_gb > 0:
            await memory_figure(root, frame_gb)


RAW_IO = """
def _revive_raw_io(folder, size):
    import os, time, numpy as np
    t = __import__('sys').modules['jupyter_revive_tracker']
    data = np.random.default_rng(1).random(size // 8)
    buf = memoryview(data).cast('B')
    path = os.path.join(folder, 'plain.bin')
    t0 = time.perf_counter()
    with open(path, 'wb') as f:
        f.write(buf)
        os.fsync(f.fileno())
    plain_write = time.perf_counter() - t0
    os.sync()
    t0 = time.perf_counter()
    with open(path, 'rb') as f:
        back = bytearray(os.fstat(f.fileno()).st_size)
        f.readinto(back)
    plain_read = time.perf_counter() - t0
    ns = {'data': data}
    t0 = time.perf_counter()
    saved = t.checkpoint.save(ns, ['data'], os.path.join(folder, 'ck'))
    for name in os.listdir(os.path.join(folder, 'ck')):
        fd = os.open(os.path.join(folder, 'ck', name), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    write = time.perf_counter() - t0
    os.sync()
    t0 = time.perf_counter()
    loaded = t.checkpoint.load({}, os.path.join(folder, 'ck'), saved['groups'])
    load = time.perf_counter() - t0
    assert loaded['loaded'] == ['data'], loaded
    mb = data.nbytes / 1e6
    return {'plain_write_mb_s': mb / plain_write, 'plain_read_mb_s': mb / plain_read,
            'write_mb_s': mb / write, 'load_mb_s': mb / load}
exec_result = _revive_raw_io(%r, %d)
del _revive_raw_io
"""


async def raw_io_figure(kernel: Bench, root: Path, size: int) -> dict[str, float]:
    """Checkpoint write and load of a buffer of the checkpoint's size against plain file I/O of
    the same bytes, in the same kernel (page cache warm for both reads)."""
    folder = root / "raw"
    folder.mkdir()
    size = max(size, 100_000_000)
    _, reply = await kernel.run(RAW_IO % (str(folder), size), silent=True, timeout=600)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"raw I/O figure failed: {reply['content']}")
    return dict(await kernel.eval("exec_result"))


MEMORY = """
def _revive_memory(folder, gb):
    import tracemalloc, numpy as np, pandas as pd
    t = __import__('sys').modules['jupyter_revive_tracker']
    rows = int(gb * 1e9 / (8 * 12))
    big = pd.DataFrame(np.random.default_rng(0).random((rows, 12)),
                       columns=[f'm{i}' for i in range(12)])
    size = int(big.memory_usage(deep=True).sum())
    tracemalloc.start()
    tracemalloc.reset_peak()
    saved = t.checkpoint.save({'big': big}, ['big'], folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return size, peak, saved['ms']
exec_result = _revive_memory(%r, %f)
del _revive_memory
"""


async def memory_figure(root: Path, frame_gb: float) -> None:
    kernel = Bench("bench-tracker")
    await kernel.start()
    try:
        code = MEMORY % (str(root / "big"), frame_gb)
        _, reply = await kernel.run(code, silent=True, timeout=900)
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"memory figure failed: {reply['content']}")
        size, peak, ms = await kernel.eval("exec_result")
    finally:
        await kernel.stop()
    print(
        f"  checkpointing a {size / 1e9:.2f} GB frame: {ms / 1000:.2f} s, peak extra memory "
        f"{peak / 1e6:.1f} MB = {peak / size:.4f} of the frame   (goal <= 0.10)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--trees", type=int, default=20, help="60: the README figures (~10 min)")
    parser.add_argument("--frame-gb", type=float, default=1.0, help="0: skip the memory figure")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.trees, args.frame_gb))
