"""The tracker in remote (gateway) kernels before their first user execution.

A gateway kernel is launched by the gateway, so our provisioner never runs for it; the tracker
is sent over the kernel's shell channel instead (``ReviveKernelQuery.install``). To be in
before the user's first cell, that happens *inside* the kernel manager's ``start_kernel`` and
``restart_kernel``, wrapped on the instance (jupyter_server has no hook there): the REST call
that starts or restarts the kernel, and so the frontend's first ``execute_request``, waits
until the kernel has answered the injection. A kernel that the gateway restarts by itself
(after a crash) is not seen by the server; it gets the tracker on the first query.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from traitlets import Bool, Float
from traitlets.config import LoggingConfigurable

from .errors import KernelQueryError
from .gateway import is_gateway_kernel


class RemoteTracking(LoggingConfigurable):
    """Installs the tracker into gateway kernels as the server starts or restarts them."""

    enabled = Bool(
        True,
        config=True,
        help=(
            "Install the tracker into kernels behind a Kernel/Enterprise Gateway as the server "
            "starts or restarts them, before the REST call returns. False leaves it to the "
            "first query (the first cells a user runs may then go unrecorded)."
        ),
    )
    start_timeout = Float(
        60.0,
        config=True,
        help=(
            "Seconds a gateway kernel's start or restart waits for the tracker to be installed; "
            "after that the kernel is handed over without it (the first query installs it)."
        ),
    )

    def __init__(self, kernel_manager: Any, query: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self._km = kernel_manager
        self._query = query
        self._installing: dict[str, asyncio.Future[None]] = {}
        # The context each kernel's last installation answered, until the context event
        # takes it (asking again just as the frontend connects would add a reply in flight
        # when its first requests land: ipykernel#1554 can leave such a request unread).
        self._installed: dict[str, dict[str, Any]] = {}

    def install(self) -> None:
        """Wrap the kernel manager's ``start_kernel`` and ``restart_kernel`` (see module doc)."""
        start = self._km.start_kernel
        restart = self._km.restart_kernel

        @functools.wraps(start)
        async def start_kernel(*args: Any, **kwargs: Any) -> Any:
            kernel_id = await start(*args, **kwargs)
            await self.track(str(kernel_id), "start")
            return kernel_id

        @functools.wraps(restart)
        async def restart_kernel(kernel_id: str, *args: Any, **kwargs: Any) -> Any:
            out = await restart(kernel_id, *args, **kwargs)
            # The old process's connection may have been the one asked before the restart
            # (a checkpoint): the new process gets a new one.
            self._query.forget(kernel_id)
            await self.track(kernel_id, "restart")
            return out

        self._km.start_kernel = start_kernel
        self._km.restart_kernel = restart_kernel

    async def settled(self, kernel_id: str) -> dict[str, Any] | None:
        """Wait for an installation under way into ``kernel_id`` and return the context it
        answered, once (None: no installation, or it failed). The context event after a
        start or restart uses it instead of asking the kernel again."""
        installing = self._installing.get(kernel_id)
        if installing is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(installing)
        return self._installed.pop(kernel_id, None)

    async def track(self, kernel_id: str, why: str) -> None:
        """Install the tracker into ``kernel_id`` if it is a gateway kernel; never raises (a
        kernel start is not failed for want of a tracker)."""
        if not self.enabled:
            return
        done = asyncio.get_running_loop().create_future()
        self._installing[kernel_id] = done
        self._installed.pop(kernel_id, None)
        try:
            context = await self._track(kernel_id, why)
            if context is not None:
                self._installed[kernel_id] = context
        finally:
            done.set_result(None)
            if self._installing.get(kernel_id) is done:
                del self._installing[kernel_id]

    async def _track(self, kernel_id: str, why: str) -> dict[str, Any] | None:
        try:
            if not is_gateway_kernel(self._km.get_kernel(kernel_id)):
                return None
            context: dict[str, Any] = await self._query.install(kernel_id, self.start_timeout)
        except KernelQueryError as e:
            self.log.info("jupyter-revive: no tracker in kernel %s at %s: %s", kernel_id, why, e)
            return None
        except Exception as e:
            self.log.warning(
                "jupyter-revive: installing the tracker at %s of %s failed: %r", why, kernel_id, e
            )
            return None
        self.log.info(
            "jupyter-revive: tracker in gateway kernel %s at %s (context %s)",
            kernel_id,
            why,
            context.get("context"),
        )
        return context
