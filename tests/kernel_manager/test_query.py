"""ReviveKernelQuery against a real jupyter_server's kernels: answers, busy, restarts, fallbacks."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_revive.kernel_manager.errors import (
    KernelBusy,
    KernelDead,
    KernelNotFound,
    NoTracker,
)
from jupyter_revive.kernel_manager.query import ReviveKernelQuery

from .conftest import TRACKER, Kernel


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    # Notice a killed kernel quickly so the auto-restart test stays short.
    return {"KernelRestarter": {"time_to_dead": 0.5}}


@pytest.fixture
def query(jp_serverapp: Any, revive_default: Any, run: Any) -> Iterator[ReviveKernelQuery]:
    kq = ReviveKernelQuery(kernel_manager=jp_serverapp.kernel_manager, parent=jp_serverapp)
    yield kq
    run(kq.close())


async def start(jp_serverapp: Any, kernel_name: str = "python3") -> tuple[str, Kernel]:
    """A kernel started through the server, and a client acting as the user's notebook."""
    km = jp_serverapp.kernel_manager
    kernel_id = await km.start_kernel(kernel_name=kernel_name)
    user = await Kernel(km.get_kernel(kernel_id)).start()
    return kernel_id, user


def test_context_and_variables(run: Any, jp_serverapp: Any, query: ReviveKernelQuery) -> None:
    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        record = await user.record("x = [1, 2, 3]", cell_id="c1")
        context = await query.context(kernel_id)
        assert record is not None and context["context"] == record["context"]
        assert context["executions"] == [record]
        again = await query.context(kernel_id)
        assert again["context"] == context["context"] and again["executions"] == [record]
        variables = await query.variables(kernel_id)
        assert variables["variables"] == [
            {"name": "x", "type": "list", "len": 3, "repr": "[1, 2, 3]"}
        ]
        named = await query.variables(kernel_id, names=["x", "y'); import os; ('"], detail=True)
        assert [v["name"] for v in named["variables"]] == ["x"]
        assert named["missing"] == ["y'); import os; ('"]
        # Queries are silent: they never show up as executions.
        assert (await query.context(kernel_id))["executions"] == [record]
        user.client.stop_channels()

    run(check())


def test_unknown_kernel(run: Any, query: ReviveKernelQuery) -> None:
    async def check() -> None:
        with pytest.raises(KernelNotFound):
            await query.context("no-such-kernel")

    run(check())


def test_busy_kernel_answers_busy_and_user_cells_are_untouched(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        query.timeout = 1.0
        sleeping = user.send("import time\ntime.sleep(10)\nslept = True", cell_id="sleep")
        queued = user.send("after = 1", cell_id="after")
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        with pytest.raises(KernelBusy):
            await query.context(kernel_id)
        with pytest.raises(KernelBusy):  # our first request is still queued: no second one
            await query.variables(kernel_id)
        # Both answered while the 10 s cell still ran, not after it.
        assert time.monotonic() - t0 < 8
        assert (await user.reply(sleeping, timeout=20))["content"]["status"] == "ok"
        after = await user.reply(queued)
        assert after["content"]["status"] == "ok"  # not aborted
        assert after["metadata"]["revive"]["defined"] == ["after"]
        context = await query.context(kernel_id)
        assert [e["cell"] for e in context["executions"]] == ["sleep", "after"]
        user.client.stop_channels()

    run(check())


def test_a_lost_reply_does_not_make_every_later_query_busy(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    """A reply that never comes (a request sent while the kernel was still starting) once
    left the channel waiting for it forever: every later query answered busy."""

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        await query.context(kernel_id)
        channel = query._channels[kernel_id]
        lost: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        channel.pending["lost-request"] = lost  # sent, given up on, never answered
        channel.abandoned.add("lost-request")
        channel.idle.clear()
        query.timeout = 2.0
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        for _ in range(100):  # iopub's idle after our first query trails its reply
            if kernel.execution_state == "idle":
                break
            await asyncio.sleep(0.05)
        context = await query.context(kernel_id)  # the kernel is idle: answers
        assert context["executions"] == [] and channel.pending == {}
        user.client.stop_channels()

    run(check())


def test_a_query_sent_the_moment_a_kernel_starts_is_answered(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    """The first requests on a socket that connected while the kernel's sockets were still
    coming up could go unanswered; the channel nudges with kernel_info until it is heard."""

    async def check() -> None:
        query.timeout = 30.0
        for _ in range(3):
            kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="python3")
            context = await query.context(kernel_id)  # no wait_for_ready first
            assert context["executions"] == [] and query._channels[kernel_id].heard
            assert query._channels[kernel_id].pending == {}  # unanswered nudges forgotten

    run(check())


def test_a_channel_the_kernel_never_answers_is_replaced_by_a_new_connection(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    """A request can sit unread in an ipykernel 7 shell socket until a new connection wakes it
    (ipython/ipykernel#1554); a channel that is never heard must not make every query busy."""
    from jupyter_revive.kernel_manager.query import _Channel, _generation, _own_client

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        deaf = _own_client(kernel)
        deaf.shell_port = free_port()  # nothing answers there
        query._channels[kernel_id] = _Channel(deaf, _generation(kernel))
        query.timeout = 20.0
        context = await query.context(kernel_id)
        assert context["executions"] == []
        channel = query._channels[kernel_id]
        assert channel.client is not deaf and channel.heard
        user.client.stop_channels()

    run(check())


async def _idle(kernel: Any) -> None:
    for _ in range(200):  # iopub's idle after a query trails its reply
        if kernel.execution_state == "idle":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the kernel did not go idle")


def _losing(channel: Any, msg_types: set[str], count: int | None = 1) -> list[str]:
    """Make ``channel`` drop its next ``count`` (None: all) outgoing ``msg_types`` messages, as
    a socket that loses them would; the dropped messages' types are listed in the result."""
    shell = channel.client.shell_channel
    send = shell.send
    dropped: list[str] = []

    def lose(msg: dict[str, Any]) -> None:
        kind = msg["header"]["msg_type"]
        if kind in msg_types and (count is None or len(dropped) < count):
            dropped.append(kind)
            return
        send(msg)

    shell.send = lose
    return dropped


def test_a_request_the_kernel_lost_is_asked_again_on_a_new_connection(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    """A heard connection whose request goes unanswered while the kernel is idle is not waited
    out: a kernel_info nudge answered first proves the request lost, and a read-only question
    is asked again on a new connection."""

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        await query.context(kernel_id)
        channel = query._channels[kernel_id]
        dropped = _losing(channel, {"execute_request"})
        await _idle(kernel)
        query.timeout = 20.0
        t0 = time.monotonic()
        context = await query.context(kernel_id)
        assert dropped == ["execute_request"] and context["executions"] == []
        assert time.monotonic() - t0 < 5  # the nudge's answer, not the 20 s timeout
        assert query._channels[kernel_id] is not channel and channel.closed
        user.client.stop_channels()

    run(check())


def test_a_lost_checkpoint_request_fails_at_once_and_is_not_sent_twice(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery, tmp_path: Any
) -> None:
    """A request that writes (a checkpoint) must not run twice: lost, it fails with a clear
    error as soon as the nudge proves it lost, not after checkpoint_timeout."""

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        await user.run("x = 1", cell_id="c1")
        await query.context(kernel_id)
        dropped = _losing(query._channels[kernel_id], {"execute_request"})
        await _idle(kernel)
        t0 = time.monotonic()
        with pytest.raises(KernelBusy, match="did not answer: the kernel answered a later"):
            await query.checkpoint(kernel_id, str(tmp_path / "ckpt"))
        assert dropped == ["execute_request"] and time.monotonic() - t0 < 5
        assert not (tmp_path / "ckpt").exists()  # it never ran, and was not sent again
        answer = await query.checkpoint(kernel_id, str(tmp_path / "ckpt"))  # asked anew: fine
        assert [g["names"] for g in answer["groups"]] == [["x"]]
        user.client.stop_channels()

    run(check())


def test_a_connection_that_stops_being_read_is_replaced(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    """Neither the request nor the nudge after it is answered while the kernel is idle: the
    connection is replaced after RECONNECT_S, and the question asked on the new one."""

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        await query.context(kernel_id)
        channel = query._channels[kernel_id]
        dropped = _losing(channel, {"execute_request", "kernel_info_request"}, count=None)
        await _idle(kernel)
        query.timeout = 20.0
        t0 = time.monotonic()
        assert (await query.names(kernel_id))["names"] == []
        assert dropped == ["execute_request", "kernel_info_request"]
        assert time.monotonic() - t0 < 8 and query._channels[kernel_id] is not channel
        user.client.stop_channels()

    run(check())


def test_a_query_timing_out_does_not_cut_a_long_request_on_the_same_connection(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint being written keeps the kernel busy for long; another query that times out
    meanwhile must not replace the connection the checkpoint's reply will come on."""
    from jupyter_revive.kernel_manager import query as query_module

    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        await query.context(kernel_id)
        monkeypatch.setattr(query_module, "SILENT_RECONNECT_S", 0.1)
        slow = f"(__import__('time').sleep(3), {TRACKER}.names_json())[1]"
        long = asyncio.ensure_future(query._ask(kernel_id, slow, timeout=30, resend=False))
        await asyncio.sleep(0.5)
        query.timeout = 0.5
        with pytest.raises(KernelBusy, match="no answer within"):
            await query.context(kernel_id)
        assert (await long)["names"] == []
        user.client.stop_channels()

    run(check())


def test_non_python_kernels_have_no_tracker(
    run: Any,
    jp_serverapp: Any,
    query: ReviveKernelQuery,
    kernelspecs: dict[str, str],
    echo_kernel_spec: str,
) -> None:
    async def check() -> None:
        for name in ("echo", kernelspecs["fake-r"]):
            kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name=name)
            with pytest.raises(NoTracker, match="Python"):
                await query.context(kernel_id)

    run(check())


def test_tracker_is_injected_into_kernels_we_did_not_launch(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery, kernelspecs: dict[str, str]
) -> None:
    async def check() -> None:
        kernel_id, user = await start(jp_serverapp, kernelspecs["plain"])
        await user.run("before = 1")
        names = "sorted(globals())"
        namespace = await user.eval(names)
        context = await query.context(kernel_id)
        assert context["executions"] == []  # what ran before the injection is unknown
        assert await user.eval(names) == namespace  # the injection bound no user names
        # The package came from the sources sent over the channel, not from a file.
        origin = await user.eval(f"{TRACKER}.__file__")
        assert origin == "<jupyter_revive_tracker (injected)>/__init__.py"
        modules = await user.eval(
            "sorted(m for m in __import__('sys').modules if m.startswith('jupyter_revive_tracker'))"
        )
        assert "jupyter_revive_tracker.ledger" in modules and "jupyter_revive" not in modules
        record = await user.record("later = before + 1", cell_id="c2")
        assert record is not None and record["context"] == context["context"]
        assert (await query.context(kernel_id))["executions"] == [record]

        query.inject_fallback = False
        other_id, other = await start(jp_serverapp, kernelspecs["plain"])
        with pytest.raises(NoTracker, match="no jupyter-revive tracker"):
            await query.context(other_id)
        user.client.stop_channels()
        other.client.stop_channels()

    run(check())


async def _context_of_new_process(
    query: ReviveKernelQuery, kernel_id: str, old: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            answer = await query.context(kernel_id)
            if answer["context"] != old:
                return answer
        except (KernelBusy, KernelDead):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the kernel did not come back with a new context")


def test_restart_and_auto_restart_give_new_contexts(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    async def check() -> None:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        first = await query.context(kernel_id)

        await km.restart_kernel(kernel_id)
        second = await query.context(kernel_id)
        assert second["context"] != first["context"] and second["pid"] != first["pid"]

        os.kill(second["pid"], signal.SIGKILL)  # a crash: the server's restarter brings it back
        third = await _context_of_new_process(query, kernel_id, second["context"])
        assert third["pid"] not in (first["pid"], second["pid"])
        assert third["executions"] == []

        await km.shutdown_kernel(kernel_id)
        with pytest.raises(KernelNotFound):
            await query.context(kernel_id)

    run(check())


def test_names_lists_every_user_name_beyond_the_summary_cap(
    run: Any, jp_serverapp: Any, query: ReviveKernelQuery
) -> None:
    async def check() -> None:
        kernel_id, user = await start(jp_serverapp)
        await user.run("for i in range(700):\n    globals()[f'v{i}'] = i")
        summary = await query.variables(kernel_id)
        names = await query.names(kernel_id)
        assert summary["truncated"] and len(summary["variables"]) == 500
        assert {f"v{i}" for i in range(700)} <= set(names["names"])
        assert names["context"] == summary["context"] and not names["truncated"]
        user.client.stop_channels()

    run(check())
