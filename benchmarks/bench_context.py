"""Prompt-cell overheads: context building, and latency before the first streamed code token.

Run: ``.venv/bin/python -m benchmarks.bench_context`` (from the repository root). Prints figures;
never run as a test. Goals from issue 5: context for 1,000 variables (a 1 GB DataFrame among
them) ≤ 50 ms; the extension's own latency before the first token ≤ 100 ms, measured here with the
local fake API against a raw SDK call to the same fake as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
from anthropic.types import MessageParam

from jupyter_revive.prompts import ReviveContextBuilder, ReviveGenerator
from jupyter_revive.prompts.cells import code_sha
from jupyter_revive.prompts.variables import render_variables
from tests.fake_anthropic import FakeAnthropic

MESSAGES: list[MessageParam] = [
    {"role": "user", "content": "plot predictions against actual values"}
]


def variables_summary(n: int) -> dict[str, Any]:
    """What the tracker reports for ``n`` variables, one of them a ~1 GB DataFrame."""
    entries: list[dict[str, Any]] = [
        {
            # 10,000,000 rows x 12 float64 columns ≈ 0.96 GB in memory.
            "name": "sales",
            "type": "pandas.core.frame.DataFrame",
            "shape": [10_000_000, 12],
            "columns": [{"name": f"metric_{i}", "dtype": "float64"} for i in range(12)],
            "repr": (
                "      metric_0  metric_1 ...\n0     0.417022  0.720324 ..."
                "\n[10000000 rows x 12 columns]"
            ),
        }
    ]
    for i in range(n - 1):
        kind = i % 4
        if kind == 0:
            entries.append(
                {
                    "name": f"arr_{i}",
                    "type": "numpy.ndarray",
                    "shape": [1000, 3],
                    "dtype": "float64",
                    "repr": "array([[0.1, 0.2, 0.3], ...])",
                }
            )
        elif kind == 1:
            entries.append(
                {
                    "name": f"frame_{i}",
                    "type": "pandas.core.frame.DataFrame",
                    "shape": [500, 40],
                    "columns": [{"name": f"c{j}", "dtype": "int64"} for j in range(40)],
                    "repr": "   c0  c1 ...\n0   1   2 ...",
                }
            )
        elif kind == 2:
            entries.append(
                {
                    "name": f"items_{i}",
                    "type": "list",
                    "len": 250,
                    "repr": "[" + ", ".join(str(j) for j in range(60)) + ", ...]",
                }
            )
        else:
            entries.append({"name": f"value_{i}", "type": "float", "repr": f"{i * 0.5}"})
    return {"context": "bench", "variables": entries, "total": n, "truncated": False}


def notebook(cells: int) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for i in range(cells):
        src = f"value_{i} = compute(step={i})\nprint(value_{i})\n" + "# comment line\n" * 5
        out.append(
            {
                "id": f"c{i}",
                "cell_type": "code",
                "metadata": {},
                "source": src,
                "execution_count": i + 1,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["line\n"] * 2000}],
            }
        )
    out.append(
        {
            "id": "prompt",
            "cell_type": "markdown",
            "metadata": {"revive": {"prompt": True}},
            "source": "plot predictions against actual values",
        }
    )
    history = [[c["id"], code_sha(c["source"])] for c in out[:-1]]
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": out,
        "metadata": {"revive": {"context": "bench", "history": history}},
    }


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm caches (templates, regexes)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return f"median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   (n={len(samples)})"


async def first_delta_raw(client: anthropic.AsyncAnthropic) -> float:
    start = time.perf_counter()
    async with client.messages.stream(
        model="claude-sonnet-5-5", max_tokens=1024, system="s", messages=MESSAGES
    ) as stream:
        async for event in stream:
            if event.type == "text":
                elapsed = time.perf_counter() - start
                break
    return elapsed * 1000


async def _ms_to_first_delta(stream: Any, start: float) -> float:
    async for event in stream:
        if event["type"] == "delta":
            elapsed = time.perf_counter() - start
            break
    await stream.aclose()
    return elapsed * 1000


async def first_delta_generator(gen: ReviveGenerator, system: str, messages: list[Any]) -> float:
    start = time.perf_counter()
    return await _ms_to_first_delta(gen.stream(system, messages), start)


async def first_delta_end_to_end(
    builder: ReviveContextBuilder, gen: ReviveGenerator, nb: dict[str, Any], summary: dict[str, Any]
) -> float:
    """What the generate handler adds: build the context, then stream until the first token."""
    start = time.perf_counter()
    ctx = builder.build(
        "plot predictions against actual values", nb, cell_id="prompt", variables=summary
    )
    return await _ms_to_first_delta(gen.stream(ctx.system, ctx.messages), start)


async def interleave(runs: int, *probes: Callable[[], Awaitable[float]]) -> list[list[float]]:
    """Alternate the probes so machine noise hits them alike."""
    results: list[list[float]] = [[] for _ in probes]
    for probe in probes:
        await probe()  # warm: connection pool, SDK imports, first-use costs
    for _ in range(runs):
        for i, probe in enumerate(probes):
            results[i].append(await probe())
    return results


async def latency(runs: int, nb: dict[str, Any], summary: dict[str, Any]) -> None:
    with FakeAnthropic() as fake:
        fake.default_reply.chunks = 20
        raw = anthropic.AsyncAnthropic(base_url=fake.url, api_key="bench-key", max_retries=0)
        gen = ReviveGenerator(api_key="bench-key", base_url=fake.url, max_retries=0)
        builder = ReviveContextBuilder()
        ctx = builder.build("plot", nb, cell_id="prompt", variables=summary)
        raw_ms, gen_ms, e2e_ms = await interleave(
            runs,
            lambda: first_delta_raw(raw),
            lambda: first_delta_generator(gen, ctx.system, ctx.messages),
            lambda: first_delta_end_to_end(builder, gen, nb, summary),
        )
        await raw.close()
        await gen.close()
        cold_ms = []
        for _ in range(5):
            # A ReviveGenerator built per request pays for a new SDK client (TLS context, pool).
            fresh = ReviveGenerator(api_key="bench-key", base_url=fake.url)
            cold_ms.append(await first_delta_generator(fresh, ctx.system, ctx.messages))
            await fresh.close()
    raw_med, gen_med, e2e_med = (statistics.median(x) for x in (raw_ms, gen_ms, e2e_ms))
    print("\nLatency before the first text delta, fake API on 127.0.0.1 (warm clients)")
    print(f"  raw SDK messages.stream (baseline)     {describe(raw_ms)}")
    print(f"  ReviveGenerator.stream                 {describe(gen_ms)}")
    print(f"  build context + ReviveGenerator.stream {describe(e2e_ms)}")
    print(f"  ReviveGenerator.stream, new generator  {describe(cold_ms)}   (reuse one!)")
    print(
        f"  ReviveGenerator overhead vs raw SDK    {gen_med - raw_med:+7.2f} ms  "
        f"(ratio {gen_med / raw_med:.2f}x)"
    )
    print(
        f"  end-to-end overhead vs raw SDK         {e2e_med - raw_med:+7.2f} ms  "
        f"(ratio {e2e_med / raw_med:.2f}x; goal: end-to-end ≤ 100 ms)"
    )


def real_frame_summary(gigabytes: float, repeat: int) -> dict[str, Any] | None:
    """Summarize a real DataFrame of ``gigabytes`` with the in-kernel tracker's code, in-process."""
    from jupyter_revive.kernel_manager.jupyter_revive_tracker.summaries import summarize

    try:
        import numpy as np
        import pandas as pd
    except ImportError as e:
        print(f"  (real frame skipped: {e})")
        return None
    rows = int(gigabytes * 1e9 / (8 * 12))
    start = time.perf_counter()
    df = pd.DataFrame(
        np.random.default_rng(0).random((rows, 12)), columns=[f"metric_{i}" for i in range(12)]
    )
    made = time.perf_counter() - start
    size = df.memory_usage(deep=False).sum() / 1e9
    print(f"  real DataFrame: {rows:,} rows x 12 float64 = {size:.2f} GB (built in {made:.1f} s)")
    summary_ms = timed(lambda: summarize("sales", df), repeat)
    detail_ms = timed(lambda: summarize("sales", df, detail=True), 3)
    print(f"  tracker summarize(frame)               {describe(summary_ms)}")
    print(f"  tracker summarize(frame, detail=True)  {describe(detail_ms)}   (for @sales)")
    return summarize("sales", df)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variables", type=int, default=1_000)
    parser.add_argument("--cells", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--real-frame-gb",
        type=float,
        default=1.0,
        help="also summarize a real DataFrame of this size with the tracker (0: skip)",
    )
    args = parser.parse_args()

    summary = variables_summary(args.variables)
    if args.real_frame_gb > 0:
        print("Tracker (runs in the kernel; measured here in-process for reference)")
        real = real_frame_summary(args.real_frame_gb, min(args.repeat, 10))
        if real is not None:
            summary["variables"][0] = real
    nb = notebook(args.cells)
    builder = ReviveContextBuilder()
    print(
        f"Context building: {args.variables} variables (one ~1 GB DataFrame), "
        f"{args.cells} executed cells with 2,000 output lines each"
    )
    var_ms = timed(
        lambda: render_variables(
            summary,
            per_variable=builder.variable_chars,
            total=builder.variables_chars,
            first=["predictions"],
        ),
        args.repeat,
    )
    ctx_ms = timed(
        lambda: builder.build(
            "plot predictions against actual values", nb, cell_id="prompt", variables=summary
        ),
        args.repeat,
    )
    ctx = builder.build(
        "plot predictions against actual values", nb, cell_id="prompt", variables=summary
    )
    print(f"  variables summary only                 {describe(var_ms)}   goal ≤ 50 ms")
    print(f"  whole context (summary + cells + ...)  {describe(ctx_ms)}   goal ≤ 50 ms")
    print(
        f"  context size: {ctx.chars:,} chars ≈ {ctx.tokens_estimate:,} tokens; "
        f"{len(ctx.variables_shown)} variables and {ctx.cells_shown} cells shown, "
        f"{ctx.cells_omitted} cells left out"
    )
    asyncio.run(latency(args.repeat, nb, summary))


if __name__ == "__main__":
    main()
