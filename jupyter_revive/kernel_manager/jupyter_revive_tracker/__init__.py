"""jupyter-revive tracker: runs INSIDE an IPython kernel.

Self-contained on purpose: standard library and IPython only, never ``jupyter_revive``. The
provisioner stages this package into a private directory and starts ipykernel with
``--IPKernelApp.extra_extensions=jupyter_revive_tracker``; for kernels it did not launch the
server sends the same sources over the shell channel (``bootstrap``). Loading it creates the
kernel process's **context id** and starts the **ledger** of user executions, whose records
also go into execute_reply metadata under ``revive``.

Modules: ``names`` (which names are the interpreter's), ``records`` (the execution record,
``code_sha``), ``snapshots`` (namespace diffs), ``changes`` (objects changed in place),
``touches`` (files, environment), ``handles`` (files written through open handles and memory
maps), ``settings`` (library settings, global random generators),
``ledger`` (the hooks), ``summaries`` (variable descriptions), ``checkpoint`` (variables written
and loaded), ``places`` (where a kernel on another host keeps its checkpoints), ``api`` (the
JSON answers), ``bootstrap`` (the in-memory importer).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from . import api
from .api import (
    checkpoint_json,
    context_json,
    load_json,
    names_json,
    prune_json,
    variables_json,
)
from .ledger import TRACKER_VERSION, Tracker
from .records import code_sha
from .summaries import summarize

__all__ = [
    "TRACKER_VERSION",
    "checkpoint_json",
    "code_sha",
    "context_json",
    "load_ipython_extension",
    "load_json",
    "names_json",
    "prune_json",
    "summarize",
    "unload_ipython_extension",
    "variables_json",
]

MODULE_NAME = "jupyter_revive_tracker"
# The provisioner names the directory it put on PYTHONPATH so that we can take it off again.
DIR_ENV = "JUPYTER_REVIVE_TRACKER_DIR"
# Set (to the seed) when the provisioner set PYTHONHASHSEED: both are taken off again.
SEEDED_ENV = "JUPYTER_REVIVE_HASH_SEED"

_log = logging.getLogger(__name__)


def _unhide_launch_dir() -> None:
    """Take the provisioner's private directory off sys.path and PYTHONPATH again."""
    directory = os.environ.pop(DIR_ENV, None)
    if not directory:
        return
    norm = os.path.normcase(os.path.abspath(directory))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.abspath(p or ".")) != norm]
    sys.path_importer_cache.pop(directory, None)
    value = os.environ.get("PYTHONPATH")
    if value is None:
        return
    if value == directory:
        del os.environ["PYTHONPATH"]
    elif value.startswith(directory + os.pathsep):
        os.environ["PYTHONPATH"] = value[len(directory) + len(os.pathsep) :]


def _unhide_hash_seed() -> None:
    """Take the provisioner's ``PYTHONHASHSEED`` off ``os.environ`` (this process' hashing was
    seeded at start; subprocesses hash as they would have), unless changed since."""
    seed = os.environ.pop(SEEDED_ENV, None)
    if seed is not None and os.environ.get("PYTHONHASHSEED") == seed:
        del os.environ["PYTHONHASHSEED"]


def _other_copy() -> Any:
    """The package registered as ``jupyter_revive_tracker`` if it is not this copy, else None."""
    registered = sys.modules.get(MODULE_NAME)
    return None if registered is None or registered is sys.modules.get(__name__) else registered


def load_ipython_extension(ip: Any) -> None:
    """Start tracking in this process; loading again (by any module name) changes nothing."""
    try:
        _unhide_launch_dir()
    except Exception:
        _log.debug("could not restore sys.path/PYTHONPATH", exc_info=True)
    try:
        _unhide_hash_seed()
    except Exception:
        _log.debug("could not restore PYTHONHASHSEED", exc_info=True)
    if api._tracker is not None:
        return
    other = _other_copy()
    shared = getattr(getattr(other, "api", None), "_tracker", None)
    if shared is not None:
        api._tracker = shared  # same process, another copy of the package: share its state
        return
    tracker = Tracker(ip)
    tracker.start()
    api._tracker = tracker
    # Queries look the tracker up under one name, however it was loaded.
    module = sys.modules.get(__name__)
    if module is not None:
        sys.modules.setdefault(MODULE_NAME, module)


def unload_ipython_extension(ip: Any) -> None:
    """Stop tracking; a later load starts a new context (what ran in between is unknown)."""
    tracker = api._tracker
    if tracker is None:
        return
    tracker.stop()
    api._tracker = None
    other = _other_copy()
    if getattr(getattr(other, "api", None), "_tracker", None) is tracker:
        other.api._tracker = None
