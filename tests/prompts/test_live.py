"""One tiny request to the real Anthropic API; runs only with ANTHROPIC_API_KEY set."""

from __future__ import annotations

import os

import pytest

from jupyter_revive.prompts import ReviveContextBuilder, ReviveGenerator

from .notebooks import make_notebook, variables

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY not set"),
]


async def test_real_api_streams_a_small_python_answer():
    nb = make_notebook(["numbers = [3, 1, 2]"], counts=[1], prompt_at=1)
    summary = variables({"name": "numbers", "type": "list", "len": 3, "repr": "[3, 1, 2]"})
    ctx = ReviveContextBuilder().build(
        "print numbers sorted", nb, cell_id="prompt", variables=summary
    )
    # base_url=None: the real API (or ANTHROPIC_BASE_URL), not a fake left over from other tests.
    gen = ReviveGenerator(max_tokens=2048, timeout=60)
    events = [event async for event in gen.stream(ctx.system, ctx.messages)]
    await gen.close()
    assert events[-1]["type"] == "done", events[-1]
    assert any(e["type"] == "delta" for e in events)
    assert "numbers" in events[-1]["code"]
    compile(events[-1]["code"], "<generated>", "exec")
