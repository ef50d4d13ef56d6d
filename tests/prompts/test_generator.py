"""The ReviveGenerator through the real anthropic SDK against the local fake API."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from traitlets import TraitError

from jupyter_revive.prompts import ReviveContextBuilder, ReviveGenerator

from .conftest import TEST_KEY
from .notebooks import make_notebook, variables

MESSAGES = [{"role": "user", "content": "write code"}]


async def collect(gen: ReviveGenerator, **kw: Any) -> list[dict[str, Any]]:
    return [event async for event in gen.stream("system text", kw.pop("messages", MESSAGES), **kw)]


async def test_deltas_arrive_in_order_then_done_with_the_extracted_code(generator, fake_anthropic):
    reply = "Here you go:\n```python\nimport math\nprint(math.pi)\n```\n"
    fake_anthropic.reply_text(reply, chunks=7)
    events = await collect(generator)
    kinds = [e["type"] for e in events]
    assert kinds == ["start"] + ["delta"] * 7 + ["done"]
    assert events[0]["model"] == generator.model
    assert "".join(e["text"] for e in events if e["type"] == "delta") == reply
    done = events[-1]
    assert done["text"] == reply
    assert done["code"] == "import math\nprint(math.pi)"
    assert done["stop_reason"] == "end_turn"
    assert done["usage"]["output_tokens"] == 7
    json.dumps(events)  # every event can go to the browser as one JSON line


async def test_thinking_is_not_streamed_into_the_cell(generator, fake_anthropic):
    fake_anthropic.reply_text("```python\nx = 1\n```", thinking="Let me think about x...")
    events = await collect(generator)
    assert "think" not in "".join(e.get("text", "") for e in events)
    assert events[-1]["code"] == "x = 1"


async def test_max_tokens_stop_reason_is_reported(generator, fake_anthropic):
    fake_anthropic.reply_text("```python\nfor i in range(", stop_reason="max_tokens")
    done = (await collect(generator))[-1]
    assert done["stop_reason"] == "max_tokens"
    assert done["code"] == "for i in range("


async def test_request_carries_context_settings_and_the_key_only_in_the_auth_header(
    generator, fake_anthropic
):
    nb = make_notebook(["df = load()"], counts=[1], prompt_at=1)
    summary = variables(
        {
            "name": "df",
            "type": "DataFrame",
            "shape": [3, 1],
            "columns": [{"name": "y", "dtype": "f8"}],
        }
    )
    ctx = ReviveContextBuilder().build("plot @df", nb, cell_id="prompt", variables=summary)
    await collect(generator, messages=ctx.messages)
    request = fake_anthropic.last
    body = request.body
    assert body["model"] == generator.model
    assert body["max_tokens"] == generator.max_tokens
    assert body["stream"] is True
    assert body["system"] == "system text"
    assert body["output_config"] == {"effort": "low"}
    assert "temperature" not in body  # Claude 5 models reject any value
    content = body["messages"][0]["content"]
    assert "- df: DataFrame, shape (3, 1), columns: y f8" in content
    assert "df = load()" in content
    assert content.endswith("plot @df")
    # The anthropic 2.x SDK sends the key as a bearer token (1.x used x-api-key); either way it
    # must travel in that one header and nowhere else.
    assert request.api_key == TEST_KEY
    elsewhere = {
        k: v for k, v in request.headers.items() if k not in ("authorization", "x-api-key")
    }
    assert TEST_KEY not in json.dumps(elsewhere)
    assert TEST_KEY not in json.dumps(body)


async def test_the_servers_own_key_is_scrubbed_from_what_is_sent(fake_anthropic):
    key = "plain-looking-key-0123456789"  # not sk-ant- shaped, so only the exact match catches it
    gen = ReviveGenerator(api_key=key, base_url=fake_anthropic.url)
    messages = [{"role": "user", "content": [{"type": "text", "text": f"my key is {key}"}]}]
    await collect(gen, messages=messages)
    await gen.close()
    assert key not in json.dumps(fake_anthropic.last.body)
    assert "<redacted>" in json.dumps(fake_anthropic.last.body)


async def test_temperature_is_sent_only_when_configured(generator, fake_anthropic):
    generator.temperature = 0.2
    generator.effort = None
    await collect(generator)
    assert fake_anthropic.last.body["temperature"] == 0.2
    assert "output_config" not in fake_anthropic.last.body


async def test_no_key_answers_at_once_without_calling_the_api(fake_anthropic, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    gen = ReviveGenerator(base_url=fake_anthropic.url)
    events = await collect(gen)
    assert events == [{"type": "error", "kind": "no_key", "message": events[0]["message"]}]
    assert "ANTHROPIC_API_KEY" in events[0]["message"]
    assert fake_anthropic.requests == []


def test_the_key_defaults_to_the_environment_and_is_never_described(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    gen = ReviveGenerator()
    assert gen.api_key == TEST_KEY
    assert gen.describe()["has_key"] is True
    assert TEST_KEY not in json.dumps(gen.describe())


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, "auth", "rejected the API key"),
        (403, "auth", "may not use"),
        (400, "bad_request", "refused the request"),
        (404, "bad_request", "does not know model"),
        (429, "rate_limit", "rate limit"),
        (500, "server", "failed"),
        (529, "server", "overloaded"),
    ],
)
async def test_http_errors_become_clear_error_events(
    generator, fake_anthropic, status, kind, words
):
    fake_anthropic.reply_error(status, "upstream says no")
    events = await collect(generator)
    assert len(events) == 1
    error = events[0]
    assert error["type"] == "error" and error["kind"] == kind and error["status"] == status
    assert words in error["message"] and "upstream says no" in error["message"]
    assert TEST_KEY not in error["message"]


async def test_rate_limit_carries_retry_after(generator, fake_anthropic):
    fake_anthropic.reply_error(429, "slow down", retry_after=17)
    (error,) = await collect(generator)
    assert error["kind"] == "rate_limit" and error["retry_after"] == 17
    assert "17 s" in error["message"]


async def test_a_wrong_key_is_an_auth_error(fake_anthropic):
    fake_anthropic.expected_api_key = "sk-ant-the-right-one-0000000000"
    gen = ReviveGenerator(api_key=TEST_KEY, base_url=fake_anthropic.url)
    (error,) = await collect(gen)
    await gen.close()
    assert error["kind"] == "auth" and error["status"] == 401


async def test_an_error_inside_the_stream_ends_it_with_an_error(generator, fake_anthropic):
    fake_anthropic.reply(kind="stream_error", after=2, error_type="overloaded_error")
    events = await collect(generator)
    assert [e["type"] for e in events] == ["start", "delta", "delta", "error"]
    assert events[-1]["kind"] == "server" and "overloaded" in events[-1]["message"]


async def test_a_connection_dropped_mid_reply_is_an_error_not_a_short_done(
    generator, fake_anthropic
):
    fake_anthropic.reply(kind="drop", after=2)
    events = await collect(generator)
    assert events[-1]["type"] == "error" and events[-1]["kind"] == "connection"
    assert "before the reply was complete" in events[-1]["message"]


async def test_a_hanging_api_times_out(fake_anthropic):
    fake_anthropic.reply_hang()
    gen = ReviveGenerator(api_key=TEST_KEY, base_url=fake_anthropic.url, timeout=0.5)
    start = time.monotonic()
    (error,) = await collect(gen)
    await gen.close()
    assert error["kind"] == "timeout" and "0.5 s" in error["message"]
    assert time.monotonic() - start < 30  # the fake hangs until stopped: the timeout ended it


async def test_a_stream_that_stalls_after_starting_times_out(fake_anthropic):
    fake_anthropic.reply_text("```python\nx = 1\n```", first_delay=3)
    gen = ReviveGenerator(api_key=TEST_KEY, base_url=fake_anthropic.url, timeout=0.5)
    events = await collect(gen)
    await gen.close()
    assert [e["type"] for e in events] == ["start", "error"]
    assert events[-1]["kind"] == "timeout"


async def test_connection_refused_is_a_connection_error(unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    gen = ReviveGenerator(api_key=TEST_KEY, base_url=url, timeout=2)
    (error,) = await collect(gen)
    await gen.close()
    assert error["kind"] == "connection"
    assert f"127.0.0.1:{unused_tcp_port}" in error["message"]


async def test_stop_mid_stream_closes_the_upstream_request(generator, fake_anthropic):
    fake_anthropic.reply_text("x" * 400, chunks=200, delay=0.02)
    cancel = asyncio.Event()
    events = []
    async for event in generator.stream("s", MESSAGES, cancel=cancel):
        events.append(event)
        if sum(e["type"] == "delta" for e in events) == 3:
            cancel.set()
    assert events[-1]["type"] == "cancelled"
    assert events[-1]["text"] == "".join(e["text"] for e in events if e["type"] == "delta")
    # The fake notices the closed socket on its next write.
    assert fake_anthropic.wait_for(lambda f: f.last.disconnected, timeout=3)
    assert not fake_anthropic.last.completed
    assert fake_anthropic.last.deltas_sent < 50


async def test_stop_before_the_api_answers_ends_promptly(generator, fake_anthropic):
    fake_anthropic.reply_hang(seconds=60)
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, cancel.set)
    start = time.monotonic()
    events = await collect(generator, cancel=cancel)
    assert events == [{"type": "cancelled", "text": ""}]
    assert time.monotonic() - start < 30  # well before the fake would have answered


async def test_closing_the_iterator_closes_the_upstream_request(generator, fake_anthropic):
    """The browser disconnected: the handler stops iterating and closes the generator."""
    fake_anthropic.reply_text("y" * 400, chunks=200, delay=0.02)
    stream = generator.stream("s", MESSAGES)
    async for event in stream:
        if event["type"] == "delta":
            break
    await stream.aclose()
    assert fake_anthropic.wait_for(lambda f: f.last.disconnected, timeout=3)
    assert fake_anthropic.last.deltas_sent < 50


async def test_the_client_is_reused_and_rebuilt_when_settings_change(generator, fake_anthropic):
    first = generator.client()
    assert generator.client() is first
    generator.timeout = 7.0
    assert generator.client() is not first
    events = await collect(generator)
    assert events[-1]["type"] == "done"


def test_invalid_settings_are_refused():
    with pytest.raises(TraitError, match="timeout"):
        ReviveGenerator(timeout=0)
    with pytest.raises(TraitError, match="max_tokens"):
        ReviveGenerator(max_tokens=0)
    with pytest.raises(TraitError):
        ReviveGenerator(effort="extreme")


async def test_concurrent_generations_do_not_mix(generator, fake_anthropic):
    fake_anthropic.reply_text("```python\na = 1\n```", chunks=5, delay=0.01)
    fake_anthropic.reply_text("```python\nb = 2\n```", chunks=5, delay=0.01)
    first, second = await asyncio.gather(collect(generator), collect(generator))
    assert {first[-1]["code"], second[-1]["code"]} == {"a = 1", "b = 2"}


def test_fake_is_usable_from_another_process_through_its_control_api():
    import subprocess
    import sys
    import urllib.request

    import anthropic

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_anthropic", "--port", "0", "--text", "hi there"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        spec = json.dumps({"kind": "error", "status": 429, "message": "busy"}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{url}/_fake/replies", data=spec))
        client = anthropic.Anthropic(base_url=url, api_key="test", max_retries=0)
        with pytest.raises(anthropic.RateLimitError):
            client.messages.create(model="m", max_tokens=5, messages=MESSAGES)
        reply = client.messages.create(model="m", max_tokens=5, messages=MESSAGES)
        assert reply.content[0].text == "hi there"
        with urllib.request.urlopen(f"{url}/_fake/requests") as answer:
            recorded = json.load(answer)
        assert len(recorded) == 2 and recorded[1]["body"]["model"] == "m"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
