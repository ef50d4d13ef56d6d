"""A real Jupyter server with jupyter-revive enabled, real kernels, and the fake Anthropic API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

# pytest-jupyter's fixtures (jp_serverapp, jp_fetch, …); see tests/kernel_manager/conftest.py.
from pytest_jupyter.jupyter_server import *  # noqa: F403

from tests.fake_anthropic import FakeAnthropic

from .pipeline import Session

T = TypeVar("T")
API_KEY = "sk-ant-test-key-never-leaves-the-server"


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as fake:
        yield fake


# Overrides pytest-jupyter's fixture of this name (star-imported above), as its docs intend.
@pytest.fixture  # type: ignore[no-redef]
def jp_server_config(
    fake_anthropic: FakeAnthropic,
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_revive": True}},
        "ReviveKernelQuery": {"timeout": 2.0},
        "ReviveGenerator": {"api_key": API_KEY, "base_url": fake_anthropic.url, "timeout": 5.0},
    }


@pytest.fixture
def run(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Callable[[Awaitable[T]], T]:
    """Run a coroutine in the loop the pytest-jupyter server listens on."""
    return jp_asyncio_loop.run_until_complete


@pytest.fixture
def session(run: Callable[[Awaitable[Any]], Any], jp_serverapp: Any) -> Iterator[Session]:
    """A kernel of the test server with the seed pipeline run in it (``pipeline.Session``)."""
    s = Session(jp_serverapp)
    run(s.start())
    yield s
    run(s.stop())
