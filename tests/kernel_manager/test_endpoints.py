"""The REST endpoints over ReviveKernelQuery: answers, error codes with JSON bodies, auth."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.server.helpers import error_body

from .conftest import Kernel


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_revive": True}},
        "ReviveKernelQuery": {"timeout": 1.0},
    }


async def get_error(jp_fetch: Any, *parts: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-revive", "kernels", *parts, **kw)
    return caught.value.code, error_body(caught.value)


def test_context_and_variables(run: Any, jp_fetch: Any, jp_serverapp: Any) -> None:
    async def check() -> None:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        user = await Kernel(km.get_kernel(kernel_id)).start()
        record = await user.record("numbers = [1, 2]", cell_id="c1")
        response = await jp_fetch("jupyter-revive", "kernels", kernel_id, "context")
        context = json.loads(response.body)
        assert record is not None and context["context"] == record["context"]
        assert context["executions"] == [record]
        response = await jp_fetch(
            "jupyter-revive", "kernels", kernel_id, "variables", params={"name": "numbers"}
        )
        variables = json.loads(response.body)
        assert [v["name"] for v in variables["variables"]] == ["numbers"]
        assert variables["missing"] == []
        user.client.stop_channels()

    run(check())


def test_unknown_kernel_is_404_json(run: Any, jp_fetch: Any) -> None:
    async def check() -> None:
        code, body = await get_error(jp_fetch, "0000-no-such-kernel", "context")
        assert code == 404 and "0000-no-such-kernel" in body["message"]

    run(check())


def test_non_python_kernel_is_409(
    run: Any, jp_fetch: Any, jp_serverapp: Any, echo_kernel_spec: str
) -> None:
    async def check() -> None:
        kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="echo")
        code, body = await get_error(jp_fetch, kernel_id, "variables")
        assert code == 409 and "Python" in body["message"]

    run(check())


def test_busy_kernel_is_503_and_not_disturbed(run: Any, jp_fetch: Any, jp_serverapp: Any) -> None:
    async def check() -> None:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        user = await Kernel(km.get_kernel(kernel_id)).start()
        sleeping = user.send("import time\ntime.sleep(3)")
        code, body = await get_error(jp_fetch, kernel_id, "context")
        assert code == 503 and "busy" in body["message"]
        assert (await user.reply(sleeping))["content"]["status"] == "ok"
        user.client.stop_channels()

    run(check())


def test_requests_without_token_are_refused(run: Any, jp_fetch: Any, jp_serverapp: Any) -> None:
    async def check() -> None:
        kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="python3")
        for endpoint in ("context", "variables"):
            with pytest.raises(HTTPClientError) as caught:
                await jp_fetch(
                    "jupyter-revive", "kernels", kernel_id, endpoint, headers={"Authorization": ""}
                )
            assert caught.value.code in (401, 403)

    run(check())
