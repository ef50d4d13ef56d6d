"""jupyter-revive: know what the kernel holds, record it in the notebook, restore it."""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-revive"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import ReviveApp

    return [{"module": "jupyter_revive", "app": ReviveApp}]
