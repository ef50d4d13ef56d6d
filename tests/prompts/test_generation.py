"""Generation: a real kernel read through ReviveKernelQuery, the real SDK against the fake API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from jupyter_client import AsyncMultiKernelManager

from jupyter_revive.kernel_manager.query import ReviveKernelQuery
from jupyter_revive.prompts import (
    GenerateRequest,
    Generation,
    ReviveContextBuilder,
    ReviveGenerator,
)
from tests.fake_anthropic import FakeAnthropic

from .notebooks import make_notebook


@pytest.fixture
async def query() -> AsyncIterator[ReviveKernelQuery]:
    """Kernels without our provisioner: the query injects the tracker on first use."""
    km = AsyncMultiKernelManager()
    kq = ReviveKernelQuery(kernel_manager=km, timeout=10.0)
    yield kq
    await kq.close()
    await km.shutdown_all(now=True)


async def kernel_with(query: ReviveKernelQuery, code: str) -> str:
    km = query.kernel_manager
    kernel_id: str = await km.start_kernel(kernel_name="python3")
    client = km.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=30)
        reply = await client.execute(code, reply=True, timeout=30)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
    return kernel_id


async def run(
    generator: ReviveGenerator, request: GenerateRequest, kernel: ReviveKernelQuery | None = None
) -> list[dict[str, Any]]:
    generation = Generation(
        request, builder=ReviveContextBuilder(), generator=generator, kernel=kernel
    )
    return [event async for event in generation.events()]


def sent_prompt(fake: FakeAnthropic) -> str:
    return str(fake.last.body["messages"][0]["content"])


async def test_start_lists_the_live_variables_shown_and_done_finds_nothing_missing(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic, query: ReviveKernelQuery
) -> None:
    fake_anthropic.reply_text("```python\nprint(predictions[:2])\n```", chunks=3)
    kernel_id = await kernel_with(query, "predictions = [0.5, 0.25, 0.125]")
    nb = make_notebook(["predictions = [0.5, 0.25, 0.125]"], counts=[1], prompt_at=1)
    request = GenerateRequest("show @predictions", nb, cell_id="prompt", kernel_id=kernel_id)
    events = await run(generator, request, query)
    assert [e["type"] for e in events] == ["start", "delta", "delta", "delta", "done"]
    assert events[0]["variables"] == ["predictions"]
    done = events[-1]
    assert done["code"] == "print(predictions[:2])"
    assert done["missing"] == [] and done["plan"] is None
    sent = sent_prompt(fake_anthropic)
    assert "- predictions: list" in sent  # the summary
    assert "0.125" in sent  # the @predictions detail
    json.dumps(events)


async def test_a_name_cut_from_the_summary_is_confirmed_with_the_kernel(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic, query: ReviveKernelQuery
) -> None:
    # The tracker sends data before code, 500 at most: `helper` is beyond the cut.
    code = "globals().update({f'v{i:03d}': i for i in range(600)})\ndef helper(x):\n    return x"
    fake_anthropic.reply_text("```python\nprint(helper(v001), nowhere)\n```")
    kernel_id = await kernel_with(query, code)
    request = GenerateRequest("use helper", make_notebook([]), kernel_id=kernel_id)
    events = await run(generator, request, query)
    assert "helper" not in events[0]["variables"]
    assert "the kernel holds 601 variables" in sent_prompt(fake_anthropic)
    assert events[-1]["missing"] == ["nowhere"]  # helper is live, nowhere is not


async def test_a_kernel_that_cannot_be_read_still_generates_and_says_so(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic, query: ReviveKernelQuery
) -> None:
    fake_anthropic.reply_text("```python\nx = 1\n```")
    request = GenerateRequest("make x", make_notebook([]), kernel_id="no-such-kernel")
    events = await run(generator, request, query)
    assert events[0]["variables"] == []
    assert events[-1]["type"] == "done" and events[-1]["missing"] == []
    assert "could not read the kernel's variables" in sent_prompt(fake_anthropic)


async def test_a_busy_kernel_is_not_said_to_lack_the_names_the_code_reads(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic, query: ReviveKernelQuery
) -> None:
    # The kernel holds `values` but is busy past the query's timeout: the guard cannot confirm
    # anything is missing, so it must not say so (the CI race that offered "restore 1 cell").
    fake_anthropic.reply_text("```python\nprint(sorted(values))\n```")
    kernel_id = await kernel_with(query, "values = [3, 1, 2]")
    client = query.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        client.execute("import time; time.sleep(20)")
        await asyncio.sleep(0.5)
        query.timeout = 1.0
        nb = make_notebook(["values = [3, 1, 2]"], counts=[1], prompt_at=1)
        request = GenerateRequest("sort", nb, cell_id="prompt", kernel_id=kernel_id)
        events = await run(generator, request, query)
    finally:
        await query.kernel_manager.interrupt_kernel(kernel_id)
        client.stop_channels()
    assert "could not read the kernel's variables" in sent_prompt(fake_anthropic)
    done = events[-1]
    assert done["type"] == "done" and done["code"] == "print(sorted(values))"
    assert done["missing"] == [] and done["plan"] is None


async def test_feedback_is_folded_into_the_prompt_the_model_reads(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic
) -> None:
    request = GenerateRequest("plot it", make_notebook([]), feedback="  use a log scale ")
    assert request.text == "plot it\n\n(Feedback on the previous attempt: use a log scale)"
    assert GenerateRequest("plot it", make_notebook([]), feedback=" ").text == "plot it"
    await run(generator, request)
    assert sent_prompt(fake_anthropic).endswith(request.text)


async def test_without_a_kernel_done_offers_the_cells_that_define_missing_names(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.reply_text("```python\nprint(total)\n```")
    nb = make_notebook(["data = [1, 2]", "total = sum(data)"], counts=[1, 2], prompt_at=2)
    events = await run(generator, GenerateRequest("print total", nb, cell_id="prompt"))
    done = events[-1]
    assert done["missing"] == ["total"]
    assert [c["id"] for c in done["plan"]["cells"]] == ["c0", "c1"]


async def test_cancel_mid_reply_ends_with_cancelled_and_no_guard(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.reply_text("```python\nx = 1\ny = 2\n```", chunks=6, delay=0.3)
    generation = Generation(
        GenerateRequest("x and y", make_notebook([])),
        builder=ReviveContextBuilder(),
        generator=generator,
    )
    events = []
    async for event in generation.events():
        events.append(event)
        if event["type"] == "delta":
            generation.cancel()
    assert events[-1]["type"] == "cancelled"
    assert "missing" not in events[-1]
    assert fake_anthropic.wait_for(lambda f: f.last.disconnected)


async def test_cancelled_before_the_reply_started_makes_no_api_call(
    generator: ReviveGenerator, fake_anthropic: FakeAnthropic
) -> None:
    generation = Generation(
        GenerateRequest("x", make_notebook([])), builder=ReviveContextBuilder(), generator=generator
    )
    generation.cancel()
    assert [e async for e in generation.events()] == [{"type": "cancelled", "text": ""}]
    await asyncio.sleep(0.1)
    assert fake_anthropic.requests == []
