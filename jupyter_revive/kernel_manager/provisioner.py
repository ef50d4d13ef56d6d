"""Launch hook: put the tracker into every ipykernel started through the server.

``ReviveProvisioner`` is a ``LocalProvisioner`` whose ``pre_launch`` (run on start, restart and
auto-restart alike) adds ``--IPKernelApp.extra_extensions=jupyter_revive_tracker`` to ipykernel
command lines and puts a private directory holding only ``jupyter_revive_tracker.py`` in front of
the kernel's ``PYTHONPATH``. The tracker takes that directory off ``sys.path`` and ``PYTHONPATH``
when it loads, so the user's environment looks untouched, and the kernel's environment does not
need jupyter_revive installed.

We set the provisioner as the *default* one instead of replacing ``kernel_manager_class``: that
keeps Kernel Gateway mode and other extensions' kernel managers working, and kernelspecs that
name their own provisioner are left alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from jupyter_core.paths import jupyter_runtime_dir
from traitlets.config import Application, Config

PROVISIONER_NAME = "revive-local-provisioner"
TRACKER_MODULE = "jupyter_revive_tracker"
EXTENSION_ARG = f"--IPKernelApp.extra_extensions={TRACKER_MODULE}"
DIR_ENV = "JUPYTER_REVIVE_TRACKER_DIR"  # must match tracker.DIR_ENV
_TRACKER_SOURCE = Path(__file__).with_name("tracker.py")

_staged: dict[str, Path] = {}


def tracker_source() -> str:
    return _TRACKER_SOURCE.read_text(encoding="utf-8")


def stage_tracker(root: str | os.PathLike[str] | None = None) -> Path:
    """Directory holding only ``jupyter_revive_tracker.py``, named by the content hash.

    Written atomically (temp file + rename), so kernels starting concurrently, or from several
    servers sharing a runtime dir, never import a half-written file.
    """
    source = tracker_source().encode("utf-8")
    digest = hashlib.sha256(source).hexdigest()[:12]
    base = Path(root) if root is not None else Path(jupyter_runtime_dir())
    directory = base / f"revive-tracker-{digest}"
    key = str(directory)
    cached = _staged.get(key)
    if cached is not None and (cached / f"{TRACKER_MODULE}.py").is_file():
        return cached
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{TRACKER_MODULE}.py"
    if not target.is_file() or target.read_bytes() != source:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tracker-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(source)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    _staged[key] = directory
    return directory


def is_ipykernel(kernel_spec: Any, cmd: list[str]) -> bool:
    language = (getattr(kernel_spec, "language", "") or "").lower()
    return language.startswith("python") and any("ipykernel" in str(arg) for arg in cmd)


def add_tracker(cmd: list[str], env: dict[str, str], directory: Path) -> list[str]:
    """The launch command and environment (changed in place) that load the tracker."""
    path = str(directory)
    previous = env.get("PYTHONPATH")
    env["PYTHONPATH"] = path if previous is None else path + os.pathsep + previous
    env[DIR_ENV] = path
    if EXTENSION_ARG in cmd:
        return cmd
    return [*cmd, EXTENSION_ARG]


class ReviveProvisioner(LocalProvisioner):  # type: ignore[misc]
    """LocalProvisioner that loads the jupyter-revive tracker into ipykernel kernels."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        cmd = list(kwargs.get("cmd") or [])
        if not is_ipykernel(self.kernel_spec, cmd):
            return kwargs
        try:
            directory = stage_tracker()
        except OSError as e:
            # Without the file the kernel still starts; the query side can inject the tracker.
            self.log.warning("jupyter-revive: could not stage the tracker: %s", e)
            return kwargs
        env = dict(kwargs.get("env") or os.environ)
        kwargs["cmd"] = add_tracker(cmd, env, directory)
        kwargs["env"] = env
        return kwargs


def _user_chose_provisioner(config: Config | None) -> bool:
    if os.environ.get(KernelProvisionerFactory.default_provisioner_name_env):
        return True
    if config is None:
        return False
    section = config.get("KernelProvisionerFactory")
    return isinstance(section, Mapping) and "default_provisioner_name" in section


def use_revive_provisioner(log: logging.Logger, config: Config | None = None) -> bool:
    """Make ``ReviveProvisioner`` the default provisioner unless the user configured another.

    ``config`` is the server's config (defaults to the running Application's). Returns True when
    kernels without a provisioner of their own will be started with the tracker.
    """
    if config is None and Application.initialized():
        config = Application.instance().config
    # Create the factory singleton with the server's config if nobody has yet, so that its
    # other configured traits still apply.
    if KernelProvisionerFactory.initialized():
        factory = KernelProvisionerFactory.instance()
    else:
        factory = KernelProvisionerFactory.instance(config=config or Config())
    if _user_chose_provisioner(config):
        chosen = factory.default_provisioner_name
        if chosen != PROVISIONER_NAME:
            log.info(
                "jupyter-revive: default kernel provisioner %r configured by the user is kept; "
                "kernels get the tracker by injection on first query instead.",
                chosen,
            )
        return bool(chosen == PROVISIONER_NAME)
    if PROVISIONER_NAME not in factory.provisioners:
        # Running from a source tree without installed entry points: register it ourselves.
        factory.provisioners[PROVISIONER_NAME] = EntryPoint(
            name=PROVISIONER_NAME,
            value=f"{__name__}:ReviveProvisioner",
            group=KernelProvisionerFactory.GROUP_NAME,
        )
    factory.default_provisioner_name = PROVISIONER_NAME
    log.debug("jupyter-revive: kernels start through %s", PROVISIONER_NAME)
    return True
