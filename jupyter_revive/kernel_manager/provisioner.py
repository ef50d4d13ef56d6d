"""Launch hook: put the tracker into every ipykernel started through the server.

``ReviveProvisioner`` is a ``LocalProvisioner`` whose ``pre_launch`` (run on start, restart and
auto-restart alike) adds ``--IPKernelApp.extra_extensions=jupyter_revive_tracker`` to ipykernel
command lines and puts a private directory holding only the ``jupyter_revive_tracker`` package
(``staging.stage_tracker``) in front of the kernel's ``PYTHONPATH``. The tracker takes that
directory off ``sys.path`` and ``PYTHONPATH`` when it loads, so the user's environment looks
untouched, and the kernel's environment does not need jupyter_revive installed.

We set the provisioner as the *default* one instead of replacing ``kernel_manager_class``: that
keeps Kernel Gateway mode and other extensions' kernel managers working, and kernelspecs that
name their own provisioner are left alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from traitlets.config import Application, Config

from .jupyter_revive_tracker import DIR_ENV, MODULE_NAME
from .staging import stage_tracker

PROVISIONER_NAME = "revive-local-provisioner"
EXTENSION_ARG = f"--IPKernelApp.extra_extensions={MODULE_NAME}"


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
            # Without the package the kernel still starts; the query side can inject the tracker.
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
