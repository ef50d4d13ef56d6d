"""`POST /jupyter-revive/plan` through a real server, with and without a live kernel."""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from .helpers import execute, notebook, stamp

PIPELINE = [
    "df = [1, 2, 3]",
    "cleaned_df = [x * 2 for x in df]",
    "print(cleaned_df)",
    "model = sum(cleaned_df)",
]


def _post(jp_fetch: Any, body: Any, **kw: Any) -> Any:
    return jp_fetch("jupyter-revive", "plan", method="POST", body=json.dumps(body), **kw)


def test_plan_of_a_recorded_notebook_after_restart(
    run: Any, jp_fetch: Any, jp_serverapp: Any
) -> None:
    async def check() -> None:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        kc = km.get_kernel(kernel_id).client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=30)
        nb = notebook(PIPELINE)
        replies = [await execute(kc, c.source, c.id) for c in nb.cells]
        stamp(nb, replies)
        nbformat.validate(nb)

        # Same kernel: everything is live, nothing to plan.
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        assert json.loads(response.body)["cells"] == []

        await km.restart_kernel(kernel_id)
        await kc.wait_for_ready(timeout=30)
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        plan = json.loads(response.body)
        assert [c["id"] for c in plan["cells"]] == ["c1", "c2", "c4"]  # not the print cell
        assert set(plan["names"]) == {"df", "cleaned_df", "model"}
        assert all(c["reason"] for c in plan["cells"])

        # A kernel holding df and cleaned_df needs only the model cell.
        await execute(kc, "df = [1, 2, 3]; cleaned_df = [2, 4, 6]", "elsewhere")
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        assert [c["id"] for c in json.loads(response.body)["cells"]] == ["c4"]
        kc.stop_channels()

    run(check())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"notebook": "not a notebook"}, "notebook must be"),
        ({"notebook": {"cells": "nope", "nbformat": 4}}, "Invalid notebook"),
        ({"notebook": notebook(["x = 1"]), "names": "x"}, "names must be"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message(
    run: Any, jp_fetch: Any, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, body))
    assert caught.value.code == 400
    assert message in json.loads(caught.value.response.body)["message"]


def test_unknown_kernel_is_a_404(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, {"notebook": notebook(["x = 1"]), "kernel_id": "no-such-kernel"}))
    assert caught.value.code == 404


def test_plan_needs_authentication(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, {"notebook": notebook(["x = 1"])}, headers={"Authorization": ""}))
    assert caught.value.code in (401, 403)
