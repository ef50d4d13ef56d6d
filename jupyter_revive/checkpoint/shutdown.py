"""Checkpoints before a kernel goes away on purpose: shutdown, restart, culling, server stop.

jupyter_server has no hook that runs *before* a kernel is shut down or restarted (its
``kernel_actions`` events fire after), so the kernel manager's ``shutdown_kernel`` and
``restart_kernel`` are wrapped on the instance; that works for the local and the gateway
kernel managers alike. Server shutdown is handled from the extension's ``stop_extension``,
which jupyter_server runs before it shuts the kernels down.

Only kernels whose notebook registered its identity (``serve``) are checkpointed, and only the
names changed since the checkpoints this kernel process already has; the write is bounded by
``budget_s`` so that a restart waits seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from traitlets import Bool, Float
from traitlets.config import LoggingConfigurable

from ..kernel_manager.errors import KernelQueryError
from .store import ReviveCheckpoints


def unsaved(
    executions: Iterable[Mapping[str, Any]],
    saved: Mapping[str, int],
    loaded: Mapping[str, Any] | None = None,
) -> list[str]:
    """Names whose last change (bound or mutated, by ledger ``seq``) comes after the position
    of the newest checkpoint holding them (``saved``); names deleted since are not counted.

    ``loaded``: name -> the position after which a checkpoint load (of an earlier kernel
    process) bound it. A load at position ``s`` counts as a change just after ``s``: only a
    checkpoint taken later than ``s`` holds it (one taken at ``s`` may predate the load).
    """
    changed: dict[str, float] = {}
    gone: dict[str, int] = {}
    for record in executions:
        seq = record.get("seq")
        if not isinstance(seq, int):
            continue
        for key in ("defined", "mutated"):
            for name in record.get(key) or ():
                if isinstance(name, str):
                    changed[name] = seq
        for name in record.get("deleted") or ():
            changed.pop(name, None)
            gone[name] = seq
    for name, at in (loaded or {}).items():
        if not (isinstance(name, str) and isinstance(at, int)):
            continue
        if at >= gone.get(name, 0) and changed.get(name, 0) <= at:
            changed[name] = at + 0.5
    return sorted(name for name, seq in changed.items() if seq > saved.get(name, 0))


class ShutdownCheckpoints(LoggingConfigurable):
    """Checkpoint what a registered kernel changed before it is shut down or restarted."""

    enabled = Bool(
        True,
        config=True,
        help="Checkpoint kernel state on a graceful shutdown or restart and on server shutdown.",
    )
    budget_s = Float(
        5.0,
        config=True,
        help=(
            "Seconds a shutdown checkpoint may take to write (groups estimated to take longer "
            "are left out). Keep it inside the time the server is given to stop: JupyterHub's "
            "local spawners wait 30 s (interrupt_timeout), KubeSpawner's pods 1 s unless "
            "delete_grace_period is raised."
        ),
    )

    def __init__(self, kernel_manager: Any, query: Any, store: ReviveCheckpoints, **kw: Any):
        super().__init__(**kw)
        self._km = kernel_manager
        self._query = query
        self._store = store
        # kernel id -> (notebook identity, the user's per-notebook cap in bytes)
        self._served: dict[str, tuple[str, int | None]] = {}
        self._stopping = False

    def serve(self, kernel_id: str, notebook: str | None, cap_bytes: int | None = None) -> None:
        """Kernel ``kernel_id`` holds the state of notebook ``notebook`` (None: no longer)."""
        if notebook is None:
            self._served.pop(kernel_id, None)
        else:
            self._served[kernel_id] = (notebook, cap_bytes)

    def install(self) -> None:
        """Wrap the kernel manager's shutdown and restart (see the module's docstring)."""
        for method, why in (("shutdown_kernel", "shutdown"), ("restart_kernel", "restart")):
            original = getattr(self._km, method)
            setattr(self._km, method, self._before(original, why))

    def _before(self, original: Any, why: str) -> Any:
        @functools.wraps(original)
        async def wrapped(kernel_id: str, *args: Any, **kwargs: Any) -> Any:
            now = kwargs.get("now") or (args[0] if args else False)
            if not now:  # "now" means kill: nothing to ask the kernel
                await self.checkpoint(kernel_id, why)
            if why == "shutdown":
                self._served.pop(kernel_id, None)
            return await original(kernel_id, *args, **kwargs)

        return wrapped

    async def checkpoint(self, kernel_id: str, why: str) -> dict[str, Any] | None:
        """Checkpoint the kernel's unsaved names; None when there was nothing to do or it
        could not be done (logged: a shutdown is never held up by a failed checkpoint)."""
        served = self._served.get(kernel_id)
        if not self.enabled or self._stopping or served is None:
            return None
        try:
            return await asyncio.wait_for(
                self._take(kernel_id, *served), timeout=2 * self.budget_s + 2
            )
        except KernelQueryError as e:
            self.log.info("jupyter-revive: no checkpoint before %s of %s: %s", why, kernel_id, e)
        except Exception as e:
            self.log.warning(
                "jupyter-revive: checkpoint before %s of %s failed: %r", why, kernel_id, e
            )
        return None

    async def _take(
        self, kernel_id: str, notebook: str, cap_bytes: int | None
    ) -> dict[str, Any] | None:
        ledger = await self._query.context(kernel_id)
        executions = ledger.get("executions", [])
        names: list[str] | None
        if ledger.get("dropped"):
            names = None  # the ledger no longer says what changed early on: save it all
        else:
            saved = self._store.saved_positions(notebook, ledger.get("context"))
            names = unsaved(executions, saved, ledger.get("loaded"))
            if not names:
                return None
        answer = await self._store.take(
            self._query, kernel_id, notebook, names, budget_s=self.budget_s, cap_bytes=cap_bytes
        )
        self.log.info(
            "jupyter-revive: checkpointed %s of kernel %s before it stops",
            ", ".join(answer["saved"]) or "nothing",
            kernel_id,
        )
        return answer

    async def stop(self) -> None:
        """Server shutdown: checkpoint every registered kernel at once, then stand down (the
        kernel manager's own shutdown that follows must not wait on the kernels again)."""
        kernels = list(self._served)
        await asyncio.gather(
            *(self.checkpoint(k, "server shutdown") for k in kernels), return_exceptions=True
        )
        self._stopping = True
