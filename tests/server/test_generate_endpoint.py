"""`POST /jupyter-revive/generate`: real server, real kernel, real SDK against the fake API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.fake_anthropic import FakeAnthropic

from .conftest import API_KEY
from .helpers import error_body, execute, ndjson, notebook, stamp


def _generate(jp_fetch: Any, body: dict[str, Any], **kw: Any) -> Any:
    return jp_fetch("jupyter-revive", "generate", method="POST", body=json.dumps(body), **kw)


def test_streams_code_with_live_variables_in_context(
    run: Any, jp_fetch: Any, jp_serverapp: Any, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.reply_text("```python\nprint(predictions[:3])\n```", chunks=5)

    async def check() -> list[dict[str, Any]]:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        kc = km.get_kernel(kernel_id).client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=30)
        nb = notebook(["predictions = [0.5, 0.25, 0.125, 1.0]"], prompt="show predictions")
        stamp(nb, [await execute(kc, nb.cells[0].source, "c1")])
        response = await _generate(
            jp_fetch,
            {
                "prompt": "show predictions",
                "cell_id": "prompt",
                "notebook": nb,
                "kernel_id": kernel_id,
            },
        )
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        kc.stop_channels()
        return ndjson(response.body)

    events = run(check())
    assert events[0]["type"] == "start"
    assert "predictions" in events[0]["variables"]
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert len(deltas) == 5
    done = events[-1]
    assert done["type"] == "done"
    assert done["code"] == "print(predictions[:3])"
    assert done["missing"] == []
    sent = json.dumps(fake_anthropic.requests[-1].body)
    assert "predictions" in sent and "show predictions" in sent
    assert API_KEY not in sent  # the key travels in a header only, never in the content


def test_guard_offers_restore_after_kernel_restart(
    run: Any, jp_fetch: Any, jp_serverapp: Any, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.reply_text("```python\nplot(predictions)\n```")

    async def check() -> dict[str, Any]:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        kc = km.get_kernel(kernel_id).client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=30)
        nb = notebook(
            [
                "df = [1, 2]",
                "predictions = [x / 2 for x in df]",
                "def plot(values):\n    return len(values)",
            ],
            prompt="plot",
        )
        stamp(nb, [await execute(kc, c.source, c.id) for c in nb.cells[:3]])
        await km.restart_kernel(kernel_id)
        await kc.wait_for_ready(timeout=30)
        response = await _generate(
            jp_fetch,
            {"prompt": "plot", "cell_id": "prompt", "notebook": nb, "kernel_id": kernel_id},
        )
        kc.stop_channels()
        return ndjson(response.body)[-1]

    done = run(check())
    assert done["type"] == "done"
    assert sorted(done["missing"]) == ["plot", "predictions"]
    assert [c["id"] for c in done["plan"]["cells"]] == ["c1", "c2", "c3"]


def test_no_api_key_says_how_to_set_it(
    run: Any, jp_fetch: Any, jp_serverapp: Any, fake_anthropic: FakeAnthropic
) -> None:
    jp_serverapp.web_app.settings["revive_generator"].api_key = None
    response = run(_generate(jp_fetch, {"prompt": "hi", "notebook": notebook([])}))
    (event,) = ndjson(response.body)
    assert event["type"] == "error" and event["kind"] == "no_key"
    assert "ANTHROPIC_API_KEY" in event["message"]
    assert fake_anthropic.requests == []


@pytest.mark.parametrize(("status", "kind"), [(401, "auth"), (429, "rate_limit"), (500, "server")])
def test_api_errors_become_clear_error_events(
    run: Any, jp_fetch: Any, fake_anthropic: FakeAnthropic, status: int, kind: str
) -> None:
    fake_anthropic.reply_error(status, "upstream says no", retry_after=3 if status == 429 else None)
    response = run(_generate(jp_fetch, {"prompt": "hi", "notebook": notebook([])}))
    event = ndjson(response.body)[-1]
    assert event["type"] == "error" and event["kind"] == kind
    assert API_KEY not in event["message"]


def test_browser_may_not_choose_the_base_url(run: Any, jp_fetch: Any) -> None:
    body = {"prompt": "hi", "notebook": notebook([]), "options": {"base_url": "http://evil"}}
    with pytest.raises(HTTPClientError) as caught:
        run(_generate(jp_fetch, body))
    assert caught.value.code == 400
    assert "base_url" in error_body(caught.value)["message"]


def test_model_choice_from_settings_reaches_the_api(
    run: Any, jp_fetch: Any, fake_anthropic: FakeAnthropic
) -> None:
    body = {
        "prompt": "hi",
        "notebook": notebook([]),
        "options": {"model": "claude-test-model", "max_tokens": 321},
    }
    events = ndjson(run(_generate(jp_fetch, body)).body)
    assert events[-1]["type"] == "done"
    sent = fake_anthropic.requests[-1].body
    assert sent["model"] == "claude-test-model" and sent["max_tokens"] == 321


def test_empty_prompt_is_rejected(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_generate(jp_fetch, {"prompt": "  ", "notebook": notebook([])}))
    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": "hi", "notebook": "nope"}, "notebook must be"),
        ({"prompt": "hi", "notebook": {"cells": "nope", "nbformat": 4}}, "Invalid notebook"),
        ({"prompt": "hi", "notebook": notebook([]), "kernel_id": 5}, "kernel_id must be"),
        ({"prompt": "x" * 20_001, "notebook": notebook([])}, "longer than 20000"),
    ],
)
def test_bad_requests_are_json_400s_and_never_reach_the_api(
    run: Any, jp_fetch: Any, fake_anthropic: FakeAnthropic, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_generate(jp_fetch, body))
    assert caught.value.code == 400
    assert message in error_body(caught.value)["message"]
    assert fake_anthropic.requests == []
