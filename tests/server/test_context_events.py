"""Every (re)start of a kernel is announced with its new context on the server's event bus."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_revive.app import CONTEXT_EVENT


def test_start_and_restart_emit_the_new_context(run: Any, jp_serverapp: Any) -> None:
    events: list[dict[str, Any]] = []

    async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        events.append(data)

    async def wait_for(count: int) -> None:
        for _ in range(200):
            if len(events) >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"only {len(events)} context events")

    async def check() -> None:
        jp_serverapp.event_logger.add_listener(schema_id=CONTEXT_EVENT, listener=listener)
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        await wait_for(1)
        await km.restart_kernel(kernel_id)
        await wait_for(2)
        started, restarted = events[:2]
        assert started["kernel_id"] == restarted["kernel_id"] == kernel_id
        assert (started["reason"], restarted["reason"]) == ("start", "restart")
        assert started["context"] and restarted["context"]
        assert started["context"] != restarted["context"]
        live = await jp_serverapp.web_app.settings["revive_kernel_query"].context(kernel_id)
        assert live["context"] == restarted["context"]

    run(check())
