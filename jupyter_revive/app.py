"""The jupyter-revive server extension: builds the managers once, registers handlers and events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_events import EventLogger
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Instance

from .checkpoint import ReviveCheckpoints, ShutdownCheckpoints
from .handlers import routes
from .kernel_manager.errors import KernelBusy, KernelDead
from .kernel_manager.provisioner import use_revive_provisioner
from .kernel_manager.query import ReviveKernelQuery
from .kernel_manager.remote import RemoteTracking
from .prompts import ReviveContextBuilder, ReviveGenerator
from .stop_signal import graceful_sigint

CONTEXT_EVENT = "https://events.jupyter.org/jupyter_revive/context/v1"
KERNEL_ACTIONS_EVENT = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
_SCHEMA = Path(__file__).parent / "events" / "context.yaml"


class ReviveApp(ExtensionApp):
    name = "jupyter_revive"
    load_other_extensions = True
    # Configurable sections shown by `jupyter server --help-all` (c.ReviveGenerator.model, …).
    classes = [
        ReviveKernelQuery,
        ReviveContextBuilder,
        ReviveGenerator,
        ReviveCheckpoints,
        ShutdownCheckpoints,
        RemoteTracking,
    ]

    track_kernels = Bool(
        True,
        config=True,
        help=(
            "Start ipykernel-based kernels through the revive provisioner so that the tracker "
            "is loaded before the first execution. False leaves the default provisioner alone; "
            "kernels then get the tracker injected over the shell channel on first query."
        ),
    )
    context_event_timeout = Float(
        20.0,
        config=True,
        help="Seconds to wait for a (re)started kernel's tracker before emitting its context.",
    )

    kernel_query = Instance(ReviveKernelQuery, allow_none=True)
    shutdown_checkpoints = Instance(ShutdownCheckpoints, allow_none=True)
    remote_tracking = Instance(RemoteTracking, allow_none=True)
    context_builder = Instance(ReviveContextBuilder, allow_none=True)
    generator = Instance(ReviveGenerator, allow_none=True)
    # Puts SIGINT back as it was before this extension made it a graceful stop (stop_signal.py).
    _restore_sigint: Callable[[], None] | None = None

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # set by jupyter_server before this is called
        if self.track_kernels:
            use_revive_provisioner(self.log, self.serverapp.config)
        self.kernel_query = ReviveKernelQuery(
            kernel_manager=self.serverapp.kernel_manager, parent=self
        )
        self.settings["revive_kernel_query"] = self.kernel_query
        checkpoints = ReviveCheckpoints(parent=self)
        self.settings["revive_checkpoints"] = checkpoints
        self.shutdown_checkpoints = ShutdownCheckpoints(
            self.serverapp.kernel_manager, self.kernel_query, checkpoints, parent=self
        )
        self.shutdown_checkpoints.install()
        if self.shutdown_checkpoints.enabled:
            self._restore_sigint = graceful_sigint(self.serverapp, self.log)
        self.settings["revive_shutdown_checkpoints"] = self.shutdown_checkpoints
        # After the shutdown wrapper, so that a restart checkpoints the old process first and
        # installs the tracker into the new one last.
        self.remote_tracking = RemoteTracking(
            self.serverapp.kernel_manager, self.kernel_query, parent=self
        )
        self.remote_tracking.install()
        # Built once: the generator keeps one SDK client (and connection pool) for all requests.
        self.context_builder = ReviveContextBuilder(parent=self)
        self.generator = ReviveGenerator(parent=self)
        self.settings["revive_context_builder"] = self.context_builder
        self.settings["revive_generator"] = self.generator
        self._event_tasks: set[asyncio.Task[None]] = set()
        self._register_events()

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        if self._restore_sigint is not None:
            self._restore_sigint()
        if self.shutdown_checkpoints is not None:  # before jupyter_server stops the kernels
            await self.shutdown_checkpoints.stop()
        tasks = list(self._event_tasks)
        for task in tasks:
            task.cancel()
        # Let the cancellations finish, or the loop closes on pending tasks.
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.kernel_query is not None:
            await self.kernel_query.close()
        if self.generator is not None:
            await self.generator.close()

    # -- events -------------------------------------------------------------------------------

    def _register_events(self) -> None:
        logger: EventLogger | None = getattr(self.serverapp, "event_logger", None)
        if logger is None:
            return
        logger.register_event_schema(_SCHEMA)
        logger.add_listener(schema_id=KERNEL_ACTIONS_EVENT, listener=self._on_kernel_action)

    async def _on_kernel_action(
        self, logger: EventLogger, schema_id: str, data: dict[str, Any]
    ) -> None:
        action = data.get("action")
        kernel_id = data.get("kernel_id")
        if action not in ("start", "restart") or data.get("status") != "success" or not kernel_id:
            return
        # Don't hold up the kernel manager: read the new context in the background.
        task = asyncio.ensure_future(self._emit_context(logger, kernel_id, action))
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _emit_context(self, logger: EventLogger, kernel_id: str, reason: str) -> None:
        assert self.kernel_query is not None
        context: str | None = None
        try:
            answer = await asyncio.wait_for(
                self._read_context(kernel_id), self.context_event_timeout
            )
            context = answer.get("context")
        except Exception as e:  # the event still tells every tab that the kernel changed
            self.log.info(
                "jupyter-revive: no context for kernel %s after %s: %s", kernel_id, reason, e
            )
        logger.emit(
            schema_id=CONTEXT_EVENT,
            data={
                "action": "context",
                "kernel_id": kernel_id,
                "context": context,
                "reason": reason,
            },
        )

    async def _read_context(self, kernel_id: str) -> dict[str, Any]:
        assert self.kernel_query is not None
        if self.remote_tracking is not None:  # a gateway kernel just got the tracker
            installed = await self.remote_tracking.settled(kernel_id)
            if installed is not None:
                return installed
        while True:
            try:
                return await self.kernel_query.context(kernel_id)
            except (KernelBusy, KernelDead):
                # A kernel that is still starting answers late or not at all: ask again.
                await asyncio.sleep(0.5)
