"""SIGINT stops the server gracefully when no terminal is attached.

jupyter_server handles SIGINT only on a terminal (with its "Shutdown this server?" prompt);
elsewhere Python's default turns it into a KeyboardInterrupt that ends the event loop without
the server's cleanup: no extension's ``stop_extension`` (so no checkpoints before shutdown), no
kernel shutdown. JupyterHub's local spawners stop a single-user server with SIGINT first, and
jupyterhub-singleuser means it as a graceful stop (it maps its terminal handler to one), so
under a hub every "Stop My Server", idle cull and hub shutdown took that bare path.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any


def graceful_sigint(serverapp: Any, log: logging.Logger) -> Callable[[], None] | None:
    """Make SIGINT run ``serverapp.stop`` when the server left Python's default handler.

    Returns the function that puts the default back (for the extension's stop, so that a
    server stopped and started again in one process, as in tests, leaves no handler behind),
    or None when it changed nothing: a handler someone else chose (the terminal prompt, an
    embedding program) is left alone, and so is a server outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("jupyter-revive: SIGINT without a terminal: stopping the server gracefully")
        # A second SIGINT ends the process at once, as a second Ctrl-C does on a terminal.
        restore()
        serverapp.stop(from_signal=True)

    def restore() -> None:
        if signal.getsignal(signal.SIGINT) is stop:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    return restore
