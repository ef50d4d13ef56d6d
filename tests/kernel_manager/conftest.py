"""Real kernels for the kernel wrapper's tests: kernelspecs, a small execute helper, a server."""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from jupyter_client import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerFactory

# jp_serverapp, jp_fetch, jp_environ, jp_kernel_dir, echo_kernel_spec, ... (pytest-jupyter does
# not register itself as a plugin, and pytest_plugins is only allowed in the root conftest).
from pytest_jupyter.jupyter_server import *  # noqa: F403

from jupyter_revive.kernel_manager.provisioner import PROVISIONER_NAME
from tests.kernelspecs import write_kernelspec

T = TypeVar("T")


TRACKER = "__import__('sys').modules['jupyter_revive_tracker']"


@pytest.fixture
def kernelspecs(jp_environ: None, jp_kernel_dir: str) -> dict[str, str]:
    """revive: our provisioner by name; plain: LocalProvisioner by name; fake-r: says R."""
    return {
        "revive": write_kernelspec(jp_kernel_dir, "revive-py", provisioner=PROVISIONER_NAME),
        "plain": write_kernelspec(jp_kernel_dir, "plain-py", provisioner="local-provisioner"),
        "fake-r": write_kernelspec(jp_kernel_dir, "fake-r", language="R"),
    }


@pytest.fixture
def run(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Callable[[Awaitable[T]], T]:
    """Run a coroutine in the loop pytest-jupyter's server listens on.

    With ``asyncio_mode = "auto"``, ``async def`` tests run in pytest-asyncio's own loop, where
    the server built by ``jp_serverapp`` never accepts an HTTP request: tests that talk to the
    server are plain functions that hand their coroutine to this.
    """
    return jp_asyncio_loop.run_until_complete


@pytest.fixture
def revive_default() -> Iterator[KernelProvisionerFactory]:
    """Make the revive provisioner the default one for this test, then put the old one back."""
    factory = KernelProvisionerFactory.instance()
    before = factory.default_provisioner_name
    factory.default_provisioner_name = PROVISIONER_NAME
    yield factory
    factory.default_provisioner_name = before


class Kernel:
    """A real kernel driven like a frontend: execute_request on shell, replies matched by id."""

    def __init__(self, km: AsyncKernelManager) -> None:
        self.km = km
        self.client = km.client()

    async def start(self) -> Kernel:
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=30)
        return self

    def send(
        self,
        code: str,
        cell_id: str | None = None,
        silent: bool = False,
        user_expressions: dict[str, str] | None = None,
        stop_on_error: bool = True,
    ) -> str:
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": user_expressions or {},
            "allow_stdin": False,
            "stop_on_error": stop_on_error,
        }
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.client.session.msg("execute_request", content, metadata=metadata)
        self.client.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    async def reply(self, msg_id: str, timeout: float = 20) -> dict[str, Any]:
        while True:
            msg = await self.client.shell_channel.get_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                return dict(msg)

    async def run(self, code: str, cell_id: str | None = None, **kw: Any) -> dict[str, Any]:
        return await self.reply(self.send(code, cell_id, **kw))

    async def record(self, code: str, cell_id: str | None = None) -> dict[str, Any] | None:
        """Run a cell; the tracker's record from its execute_reply metadata.

        stop_on_error=False: after a failing cell ipykernel may abort a request that follows
        quickly (its abort window), which under load made error tests flaky.
        """
        reply = await self.run(code, cell_id, stop_on_error=False)
        return reply["metadata"].get("revive")

    async def eval(self, expression: str) -> Any:
        """Evaluate silently through user_expressions; the Python value of its repr."""
        reply = await self.run("", silent=True, user_expressions={"e": expression})
        result = reply["content"]["user_expressions"]["e"]
        assert result["status"] == "ok", result
        return ast.literal_eval(result["data"]["text/plain"])

    async def tracker(self, call: str) -> dict[str, Any]:
        return dict(json.loads(await self.eval(f"{TRACKER}.{call}")))

    async def stop(self) -> None:
        self.client.stop_channels()
        await self.km.shutdown_kernel(now=True)


async def start_kernel(
    kernel_name: str, cwd: str | None = None, env: dict[str, str] | None = None
) -> Kernel:
    km = AsyncKernelManager(kernel_name=kernel_name)
    await km.start_kernel(**({"cwd": cwd} if cwd else {}), **({"env": env} if env else {}))
    return await Kernel(km).start()


@pytest.fixture
async def kernel(
    kernelspecs: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Kernel]:
    """A kernel started through the revive provisioner, in a folder of its own (not the test's
    ``tmp_path``, whose files stay outside it): the OS reports what any process does in the
    kernel's folders (``fsevents``), the test run's own files too."""
    k = await start_kernel(kernelspecs["revive"], cwd=str(tmp_path_factory.mktemp("kernel")))
    yield k
    await k.stop()
