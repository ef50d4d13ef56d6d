"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
