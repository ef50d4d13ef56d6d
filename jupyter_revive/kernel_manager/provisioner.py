"""Launch hook: put the tracker into every ipykernel started through the server.

``ReviveProvisioner`` is a ``LocalProvisioner`` whose ``pre_launch`` (run on start, restart and
auto-restart alike) adds ``--IPKernelApp.extra_extensions=jupyter_revive_tracker`` to ipykernel
command lines and puts a private directory holding only the ``jupyter_revive_tracker`` package
(``staging.stage_tracker``) in front of the kernel's ``PYTHONPATH``. The tracker takes that
directory off ``sys.path`` and ``PYTHONPATH`` when it loads, so the user's environment looks
untouched, and the kernel's environment does not need jupyter_revive installed.

It also pins the kernel's string hashing (``PYTHONHASHSEED``) to a seed derived from the
notebook's path, unless the environment already sets one: CPython seeds it at random per process,
so a set of strings iterates in another order in every kernel (``list({"a", "b"})``), and a
restore, which re-runs cells in a new kernel, could give a different value silently. The seed is
the same for every kernel of the same notebook (restarts, server restarts). The tracker takes it
off ``os.environ`` again when it loads, so subprocesses hash as they would have.
``ReviveProvisioner.pin_hash_seed = False`` turns this off.

We set the provisioner as the *default* one instead of replacing ``kernel_manager_class``: that
keeps Kernel Gateway mode and other extensions' kernel managers working, and kernelspecs that
name their own provisioner are left alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from traitlets import Bool
from traitlets.config import Application, Config

from .jupyter_revive_tracker import DIR_ENV, MODULE_NAME, SEEDED_ENV
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


HASH_SEED_ENV = "PYTHONHASHSEED"


def hash_seed(key: str) -> int:
    """A string-hashing seed for ``key`` (a notebook's path): stable, in 1..2**32-1 (0 would
    switch hashing to a fixed function shared by every such kernel)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % (2**32 - 1) + 1


def set_hash_seed(env: dict[str, str], key: str) -> None:
    """Set ``PYTHONHASHSEED`` in ``env`` (in place) from ``key``, unless the user set it."""
    if HASH_SEED_ENV in env:
        return
    env[HASH_SEED_ENV] = str(hash_seed(key))
    env[SEEDED_ENV] = env[HASH_SEED_ENV]  # ours: the tracker takes both off again


class ReviveProvisioner(LocalProvisioner):  # type: ignore[misc]
    """LocalProvisioner that loads the jupyter-revive tracker into ipykernel kernels."""

    pin_hash_seed = Bool(
        True,
        config=True,
        help="Give every kernel of a notebook the same string-hashing seed (PYTHONHASHSEED, "
        "from the notebook's path; an environment that sets it keeps its own), so that sets of "
        "strings iterate in the same order when a restore re-runs cells in a new kernel.",
    )

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
        if self.pin_hash_seed:
            # the notebook's path when the server started it for one, else where it runs
            set_hash_seed(env, env.get("JPY_SESSION_NAME") or str(kwargs.get("cwd") or os.getcwd()))
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
