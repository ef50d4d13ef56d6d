"""Where a kernel on another host keeps the checkpoints it writes (a gateway kernel).

The server cannot name a folder on a host it does not see, so such a kernel chooses its own:
``<its Jupyter data dir>/revive/checkpoints/<notebook>/<checkpoint>`` (``JUPYTER_DATA_DIR``
wins, as for Jupyter itself; ``JUPYTER_REVIVE_CHECKPOINTS`` overrides the whole root). The
server keeps the signed manifest, which names that folder; removing checkpoints past the caps
is asked of the kernel, which removes only folders under its own root.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable

ROOT_ENV = "JUPYTER_REVIVE_CHECKPOINTS"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _data_dir() -> str:
    """Jupyter's data directory, as jupyter_core computes it (without importing it)."""
    given = os.environ.get("JUPYTER_DATA_DIR")
    if given:
        return given
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Jupyter")
    if os.name == "nt":
        appdata = os.environ.get("APPDATA")
        return os.path.join(appdata, "jupyter") if appdata else os.path.join(home, ".jupyter")
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(xdg, "jupyter")


def root() -> str:
    return os.environ.get(ROOT_ENV) or os.path.join(_data_dir(), "revive", "checkpoints")


def _part(value: str) -> str:
    if not isinstance(value, str) or not _PART.match(value) or value in (".", ".."):
        raise ValueError(f"not a checkpoint or notebook id: {value!r}")
    return value


def folder(notebook: str, checkpoint: str) -> str:
    """This host's folder for one checkpoint (ids checked: no path can be smuggled in)."""
    return os.path.join(root(), _part(notebook), _part(checkpoint))


def prune(notebook: str, keep: Iterable[str]) -> list[str]:
    """Remove this notebook's checkpoint folders not in ``keep``; the ids removed."""
    base = os.path.join(root(), _part(notebook))
    kept = set(keep)
    removed = []
    try:
        entries = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    for name in entries:
        path = os.path.join(base, name)
        if name in kept or not _PART.match(name) or os.path.islink(path):
            continue
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed
