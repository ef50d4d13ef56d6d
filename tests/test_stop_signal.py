"""SIGINT without a terminal becomes the server's graceful stop (jupyter_revive/stop_signal.py);
end to end under JupyterHub in tests/browser/test_hub.py."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from jupyter_revive.stop_signal import graceful_sigint

LOG = logging.getLogger(__name__)


class Server:
    """What graceful_sigint uses of a ServerApp: its stop()."""

    def __init__(self) -> None:
        self.stops: list[dict[str, Any]] = []

    def stop(self, **kw: Any) -> None:
        self.stops.append(kw)


@pytest.fixture(autouse=True)
def sigint_as_before() -> Iterator[None]:
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_sigint_stops_the_server_once_then_a_second_one_interrupts() -> None:
    server = Server()
    assert graceful_sigint(server, LOG) is not None
    signal.raise_signal(signal.SIGINT)
    assert server.stops == [{"from_signal": True}]
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_a_handler_someone_chose_is_left_alone() -> None:
    def chosen(signum: int, frame: FrameType | None) -> None:
        pass

    signal.signal(signal.SIGINT, chosen)
    assert graceful_sigint(Server(), LOG) is None
    assert signal.getsignal(signal.SIGINT) is chosen


def test_restore_puts_the_default_back() -> None:
    restore = graceful_sigint(Server(), LOG)
    assert restore is not None
    assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
