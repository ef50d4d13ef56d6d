"""The test server in gateway mode (``GatewayClient.url``) against a real Kernel Gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.gateway.managers import GatewayMappingKernelManager

# pytest-jupyter's fixtures (jp_serverapp, jp_fetch, jp_ws_fetch, …).
from pytest_jupyter.jupyter_server import *  # noqa: F403

from tests.fake_anthropic import FakeAnthropic
from tests.gateway_host import KernelGateway
from tests.server.helpers import cell_request

T = TypeVar("T")
API_KEY = "sk-ant-test-key-never-leaves-the-server"


@pytest.fixture(autouse=True)
def gateway_singletons() -> Iterator[None]:
    """GatewayClient is a process-wide singleton (and the gateway manager's kernel table a class
    attribute): clear them, or the tests after these would run in gateway mode too."""
    GatewayClient.clear_instance()
    yield
    GatewayClient.clear_instance()
    GatewayMappingKernelManager._kernels.clear()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as fake:
        yield fake


# Overrides pytest-jupyter's fixture of this name (star-imported above), as its docs intend.
@pytest.fixture  # type: ignore[no-redef]
def jp_server_config(
    kernel_gateway: KernelGateway, fake_anthropic: FakeAnthropic
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_revive": True}},
        "GatewayClient": {"url": kernel_gateway.url},
        "ReviveKernelQuery": {"timeout": 10.0},
        "ReviveGenerator": {"api_key": API_KEY, "base_url": fake_anthropic.url, "timeout": 5.0},
    }


@pytest.fixture
def run(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Callable[[Awaitable[T]], T]:
    """Run a coroutine in the loop the pytest-jupyter server listens on."""
    return jp_asyncio_loop.run_until_complete


class Frontend:
    """A kernel's channels as JupyterLab uses them: the server's kernel websocket (which the
    server proxies to the gateway's), execute requests carrying the cell id."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.session = Session()

    @classmethod
    async def connect(cls, jp_ws_fetch: Any, kernel_id: str) -> Frontend:
        return cls(await jp_ws_fetch("api", "kernels", kernel_id, "channels"))

    def send(self, msg_type: str, content: dict[str, Any], cell_id: str | None = None) -> str:
        msg = self.session.msg(msg_type, content)
        if cell_id is not None:
            msg["metadata"]["cellId"] = cell_id
        msg["channel"] = "shell"
        self.ws.write_message(json.dumps(msg, default=json_default))
        return str(msg["header"]["msg_id"])

    async def reply(self, msg_id: str, timeout: float = 60) -> dict[str, Any]:
        while True:
            text = await asyncio.wait_for(self.ws.read_message(), timeout)
            assert text is not None, "the kernel websocket closed"
            if not isinstance(text, str):
                continue
            msg = json.loads(text)
            if msg.get("channel") == "shell" and msg["parent_header"].get("msg_id") == msg_id:
                return dict(msg)

    async def execute(self, code: str, cell_id: str | None = None) -> dict[str, Any]:
        """Run ``code`` as a cell (``cell_id`` as JupyterLab sends it); the execute_reply."""
        return await self.reply(self.send("execute_request", cell_request(code), cell_id))

    def close(self) -> None:
        self.ws.close()
