"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory

from tests.gateway_host import KernelGateway

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where UI tests save screenshots and server logs (kept after the run)."""
    path = Path(os.environ.get("REVIVE_ARTIFACTS", ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first, browser tests last (they are slow, and own an event loop while open)."""
    items.sort(key=lambda item: "/tests/browser/" in str(item.fspath).replace(os.sep, "/"))


@pytest.fixture(autouse=True)
def restore_default_provisioner() -> Iterator[None]:
    """Loading the extension makes the revive provisioner the process-wide default: undo it."""
    factory = KernelProvisionerFactory.instance()
    before = factory.default_provisioner_name
    yield
    factory.default_provisioner_name = before


@pytest.fixture(scope="session")
def kernel_gateway(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[KernelGateway]:
    """One real Kernel Gateway for the session (the "remote host" of gateway-mode tests)."""
    home = tmp_path_factory.mktemp("gateway-host")
    gateway = KernelGateway(home, artifacts_dir / f"gateway-{home.name}.log")
    gateway.start()
    yield gateway
    gateway.stop()
