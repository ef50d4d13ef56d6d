"""Ask a kernel's tracker for its context and variables without disturbing the user.

Every question is a *silent* ``execute_request`` with empty code and one ``user_expressions``
entry (``store_history=False``, ``allow_stdin=False``, ``stop_on_error=False``): no output, no
execution count, no stdin, and it can never abort the user's queued cells. When the kernel is
running a cell, our request waits in its queue behind it; we stop waiting after ``timeout``
(``KernelBusy``), the request later runs silently and its reply is dropped. To avoid piling
requests up behind a long cell, a kernel that has not answered our previous request is not sent
another one until it does.

A request the kernel never reads or never answers is not waited out: unless the server sees
the kernel busy, a ``kernel_info_request`` follows it on the same connection after ``NUDGE_S``.
The kernel handles a connection's requests in order, so that nudge answered first means ours
was lost; unanswered while the kernel stays idle, nothing on the connection is being read (not
said of a gateway kernel, whose state the server does not see live, nor while a write waits).
Either way the connection is replaced, and a read-only question is asked again on the new one.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import inspect
import json
import uuid
from collections.abc import Callable
from typing import Any

from traitlets import Bool, Float, Instance
from traitlets.config import LoggingConfigurable

from .errors import KernelBusy, KernelDead, KernelNotFound, NoTracker
from .gateway import GatewayShell, is_gateway_kernel
from .jupyter_revive_tracker import MODULE_NAME
from .staging import tracker_sources

_TRACKER_REF = f"__import__('sys').modules[{MODULE_NAME!r}]"
MAX_NAMES = 500  # names asked for in one variables query
BUSY_GRACE_S = 0.25
NUDGE_S = 0.5  # a new channel's kernel_info requests are sent again this often until answered
RECONNECT_S = 1.5  # an unanswered new channel is replaced by a new connection this often
SILENT_RECONNECT_S = 10.0  # a channel unanswered this long is replaced even if the kernel is busy
ATTEMPTS = 3  # connections one question may be asked on


class _NoReply(Exception):
    """A request came back without a reply and without timing out. ``sent``: the kernel may
    have run it (asking again would run it twice)."""

    def __init__(self, why: str, sent: bool) -> None:
        super().__init__(why)
        self.sent = sent


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _generation(kernel: Any) -> tuple[Any, ...]:
    """Changes when the kernel process is replaced (restart, auto-restart after a crash)."""
    provisioner = getattr(kernel, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return (id(provisioner), id(process), getattr(process, "pid", None))


def _own_client(kernel: Any) -> Any:
    """A client with its own session id.

    ``km.client()`` reuses the manager's Session, and the shell socket's ZMQ identity is the
    session id: two such clients in one process share an identity, and the kernel's ROUTER
    then delivers replies to only one of them. Another extension's ``km.client()`` would lose
    (or steal) our replies. A gateway kernel gets our own websocket to the gateway.
    """
    session = getattr(kernel, "session", None)
    if session is None or not hasattr(session, "clone"):
        return kernel.client()
    own = session.clone()
    own.session = str(uuid.uuid4())
    if is_gateway_kernel(kernel):
        return GatewayShell(str(kernel.kernel_id), own)
    return kernel.client(session=own)


@functools.cache
def injection_code() -> str:
    """One silent statement that installs the tracker package from its sources.

    The kernel may share no files with the server: the package's own ``bootstrap`` module,
    run in a throwaway globals dict (so it binds no user names), imports the package from the
    sources sent along and loads it. A single line on purpose: IPython's input transformers look
    at line starts and ends, never inside one string literal.
    """
    sources = tracker_sources()
    program = (
        sources["bootstrap.py"]
        + "\ninstall(SOURCES).load_ipython_extension(__import__('IPython').get_ipython())\n"
    )
    scope = {"__name__": f"{MODULE_NAME}.bootstrap", "SOURCES": sources}
    return f"exec({program!r}, {scope!r})"


class _Channel:
    """One kernel client (shell channel only) with a reader that routes replies by msg_id."""

    def __init__(self, client: Any, generation: tuple[Any, ...]) -> None:
        self.client = client
        self.generation = generation
        self.language: str | None = None
        self.heard = False  # the kernel answered on this socket at least once
        self.last_heard = asyncio.get_running_loop().time()
        self.info: dict[str, Any] = {}  # its kernel_info reply
        self.broken = False
        self.closed = False
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.abandoned: set[str] = set()  # pending requests whose callers stopped waiting
        self.idle = asyncio.Event()
        self.idle.set()
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                msg = await self.client.shell_channel.get_msg(timeout=None)
                parent = (msg.get("parent_header") or {}).get("msg_id")
                future = None
                self.last_heard = asyncio.get_running_loop().time()
                if isinstance(parent, str):
                    future = self.pending.pop(parent, None)
                    self.abandoned.discard(parent)
                if future is not None and not future.done():
                    future.set_result(msg)
                if not self.pending:
                    self.idle.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A socket that failed (closed context, bad message): this channel is done; the
            # next query builds a new one instead of waiting for replies that cannot come.
            self.broken = True
            self.close()

    async def handshake(self, deadline: float, resend: bool = True) -> bool:
        """Nudge the kernel with ``kernel_info_request`` until one is answered, as
        jupyter_client's ``wait_for_ready`` does (``resend``: every ``NUDGE_S``; else once,
        for a busy kernel that answers after its cell). A request can sit unread in the
        kernel's shell socket (ipykernel 7's shell channel thread can miss the wake-up of a
        request that lands while it sends a reply, ipython/ipykernel#1554) until a *new
        connection* wakes it: the caller replaces a channel that is never heard. False when
        no answer came before ``deadline``."""
        loop = asyncio.get_running_loop()
        nudges: set[str] = set()
        try:
            while not self.heard:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                if resend or not nudges:
                    msg = self.client.session.msg("kernel_info_request", {})
                    nudges.add(msg["header"]["msg_id"])
                    self.pending[msg["header"]["msg_id"]] = loop.create_future()
                    self.idle.clear()
                    self.client.shell_channel.send(msg)
                waiting = [self.pending[m] for m in nudges if m in self.pending]
                if not waiting:
                    return False  # forgotten by a close under us: nothing left to wait for
                wait = min(NUDGE_S, remaining) if resend else remaining
                done, _ = await asyncio.wait(
                    [asyncio.shield(f) for f in waiting],
                    timeout=wait,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for finished in done:
                    if finished.cancelled() or finished.exception() is not None:
                        return False  # the channel was closed under us
                    self.heard = True
                    self.info = dict(finished.result().get("content") or {})
            return True
        finally:
            self._forget(nudges & self.pending.keys())  # unanswered nudges: late replies go

    async def request(
        self,
        msg_type: str,
        content: dict[str, Any],
        timeout: float,
        busy: Callable[[], bool | None],
        resend: bool = True,
    ) -> dict[str, Any] | None:
        """The reply, or None after ``timeout`` seconds; ``_NoReply`` when it cannot come
        (see the module's docstring). ``busy``: whether the server sees the kernel busy (None:
        it cannot tell). ``resend``: the caller would ask again on a new connection; else only
        a request proven lost ends the wait early (the server's view of the kernel's state
        lags its status messages, and a write must not be given up on while it runs)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self.pending and not busy():
            # The kernel is idle, so requests whose callers gave up are not queued there any
            # more: their replies were lost (sent while the kernel was starting) or are late.
            # Forget them, or one lost reply would make every later query wait and fail.
            self._forget(self.abandoned & self.pending.keys())
        if self.pending:
            # Our last request is still queued in the kernel. While the server also sees the
            # kernel busy, another request would only queue up behind it: give the old one a
            # moment (it may be just finishing) and otherwise answer busy at once.
            wait = min(timeout, BUSY_GRACE_S) if busy() else timeout
            try:
                await asyncio.wait_for(self.idle.wait(), wait)
            except asyncio.TimeoutError:
                return None
        if self.closed:  # closed by another query while this one waited for its turn
            raise _NoReply("the connection was closed before the request was sent", sent=False)
        msg_id = self._send(msg_type, content)
        try:
            return await self._reply(msg_id, deadline, busy, resend)
        except asyncio.TimeoutError:
            if msg_id in self.pending:
                self.abandoned.add(msg_id)
            return None
        except ConnectionError:
            raise _NoReply("the connection was closed while the kernel ran it", sent=True) from None

    def _send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg = self.client.session.msg(msg_type, content)
        msg_id = str(msg["header"]["msg_id"])
        self.pending[msg_id] = asyncio.get_running_loop().create_future()
        self.idle.clear()
        try:
            self.client.shell_channel.send(msg)
        except ConnectionError:  # a gateway websocket that closed under us
            self.broken = True
            self.close()
            raise _NoReply("the connection closed as the request was sent", sent=False) from None
        return msg_id

    async def _reply(
        self, msg_id: str, deadline: float, busy: Callable[[], bool | None], unread: bool
    ) -> dict[str, Any]:
        """The reply to ``msg_id``, nudging an idle kernel (see the module's docstring;
        ``unread``: give up on a connection that seems unread too); ``asyncio.TimeoutError`` at
        ``deadline``, and the future stays pending so that a late reply clears it."""
        loop = asyncio.get_running_loop()
        future = self.pending[msg_id]
        nudge: str | None = None
        nudged = 0.0  # when the nudge went out, or the kernel was last seen busy since
        try:
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise asyncio.TimeoutError
                await asyncio.wait([future], timeout=min(NUDGE_S, left))
                if future.done():
                    return future.result()  # ConnectionError: closed under us
                state = busy()
                if state:  # queued behind a cell, or running (a checkpoint takes a while)
                    nudged = loop.time()
                elif nudge is None:
                    try:
                        nudge, nudged = self._send("kernel_info_request", {}), loop.time()
                    except _NoReply as e:  # ours went out before: the kernel may have run it
                        raise _NoReply(str(e), sent=True) from None
                elif nudge not in self.pending:  # answered: ours came before it
                    raise _NoReply("the kernel answered a later request but not this one", True)
                elif unread and state is False and loop.time() - nudged >= RECONNECT_S:
                    raise _NoReply(
                        f"the kernel, idle, read nothing on this connection for {RECONNECT_S:g} s",
                        sent=True,
                    )
        finally:
            if nudge is not None:
                self._forget({nudge} & self.pending.keys())

    def awaited(self) -> bool:
        """Whether some caller still waits for a reply on this connection."""
        return bool(self.pending.keys() - self.abandoned)

    def _forget(self, msg_ids: set[str]) -> None:
        for msg_id in msg_ids:
            future = self.pending.pop(msg_id, None)
            if future is not None and not future.done():
                future.cancel()
        self.abandoned -= msg_ids
        if not self.pending:
            self.idle.set()

    def close(self) -> None:
        self.closed = True
        self.reader.cancel()
        for future in self.pending.values():
            if not future.done():  # waiters see "no reply", not a CancelledError of their own
                future.set_exception(ConnectionError("kernel client closed"))
                future.exception()  # retrieved: orphans must not log "never retrieved"
        self.pending.clear()
        self.idle.set()
        with contextlib.suppress(Exception):  # a client of a kernel that is already gone
            self.client.stop_channels()


class ReviveKernelQuery(LoggingConfigurable):
    """Reads tracker data from kernels of a (multi) kernel manager; raises ``errors.*``."""

    timeout = Float(
        3.0,
        config=True,
        help=(
            "Seconds to wait for a kernel's answer to a tracker query. A kernel still running a "
            "cell after that is reported busy (our silent request runs after the cell)."
        ),
    )
    inject_fallback = Bool(
        True,
        config=True,
        help=(
            "When a Python kernel has no tracker (its launch was not ours: remote or gateway "
            "kernels, a custom provisioner), load it over the shell channel with a silent "
            "execution that binds no user names. False reports such kernels as untracked."
        ),
    )
    checkpoint_timeout = Float(
        600.0,
        config=True,
        help="Seconds to wait for a kernel to write or load a checkpoint.",
    )
    kernel_manager = Instance("jupyter_client.multikernelmanager.MultiKernelManager")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._channels: dict[str, _Channel] = {}

    # -- public API -----------------------------------------------------------------------------

    async def context(self, kernel_id: str) -> dict[str, Any]:
        """``{"context","pid","started","tracker","seq","dropped","executions":[...]}``."""
        return await self._ask(kernel_id, f"{_TRACKER_REF}.context_json()")

    async def variables(
        self, kernel_id: str, names: list[str] | None = None, detail: bool = False
    ) -> dict[str, Any]:
        """Bounded summary of the kernel's user variables (all, or ``names``)."""
        if names is not None:
            # repr() of a list of str is a Python literal: names cannot inject code.
            names = [str(n) for n in names][:MAX_NAMES]
        expression = f"{_TRACKER_REF}.variables_json(names={names!r}, detail={bool(detail)!r})"
        return await self._ask(kernel_id, expression)

    async def names(self, kernel_id: str) -> dict[str, Any]:
        """Every user name in the kernel (no values): ``{"context","names","truncated"}``."""
        return await self._ask(kernel_id, f"{_TRACKER_REF}.names_json()")

    async def checkpoint(
        self,
        kernel_id: str,
        folder: str | None,
        names: list[str] | None = None,
        max_bytes: int | None = None,
        into: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Have the kernel write its variables (all, or ``names``) into ``folder`` on its host,
        or (``folder=None``) into its own folder for ``into`` = (notebook, checkpoint):
        ``{"context","seq","where","groups","skipped","replay","bytes","ms"}`` (tracker
        ``checkpoint``). Waits up to ``checkpoint_timeout``: writing a large frame takes a
        while."""
        if names is not None:
            names = [str(n) for n in names][:MAX_NAMES]
        limit = None if max_bytes is None else int(max_bytes)
        place = None if folder is None else str(folder)
        parts = None if into is None else [str(into[0]), str(into[1])]
        expression = (
            f"{_TRACKER_REF}.checkpoint_json({place!r}, names={names!r}, max_bytes={limit!r}, "
            f"into={parts!r})"
        )
        return await self._ask(kernel_id, expression, self.checkpoint_timeout, resend=False)

    async def prune(self, kernel_id: str, notebook: str, keep: list[str]) -> dict[str, Any]:
        """Have a remote kernel remove its own checkpoint folders of ``notebook`` that are not
        in ``keep``: ``{"removed": [ids]}``."""
        expression = f"{_TRACKER_REF}.prune_json({str(notebook)!r}, {[str(k) for k in keep]!r})"
        return await self._ask(kernel_id, expression)

    def is_remote(self, kernel_id: str) -> bool:
        """Whether the kernel runs on a host whose files the server does not see (a gateway
        kernel): it then keeps its checkpoint files in a folder of its own choosing."""
        return is_gateway_kernel(self._kernel(kernel_id))

    async def load(
        self, kernel_id: str, folder: str, groups: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Have the kernel load ``groups`` (from a *verified* manifest) out of ``folder``:
        ``{"context","loaded","refused","ms"}``. Each file is checked against its hash there."""
        signed = json.dumps(groups, separators=(",", ":"))
        expression = f"{_TRACKER_REF}.load_json({str(folder)!r}, {signed!r})"
        return await self._ask(kernel_id, expression, self.checkpoint_timeout, resend=False)

    async def install(self, kernel_id: str, timeout: float) -> dict[str, Any]:
        """Put the tracker into a Python kernel whose launch was not ours (a gateway kernel as
        it starts or restarts) and return its context, in one silent execution (loading it
        twice changes nothing). Waits up to ``timeout`` for a kernel that is still starting."""
        kernel = self._kernel(kernel_id)
        deadline = asyncio.get_running_loop().time() + timeout
        channel = await self._channel(kernel_id, kernel, deadline)
        language = await self._language(kernel_id, kernel, channel, deadline)
        if not language.lower().startswith("python"):
            raise NoTracker.not_python(kernel_id, language)
        content = await self._inject(
            kernel_id, kernel, channel, deadline, {"revive": f"{_TRACKER_REF}.context_json()"}
        )
        result = (content.get("user_expressions") or {}).get("revive") or {}
        if result.get("status") != "ok":
            reason = f"{result.get('ename', 'Error')}: {result.get('evalue', '')}"
            raise NoTracker.absent(kernel_id, f"injection failed ({reason})")
        return self._decode(kernel_id, result)

    def forget(self, kernel_id: str) -> None:
        """Close our connection to a kernel (its process is being replaced); the next question
        opens a new one."""
        self._drop(kernel_id)

    async def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    # -- internals ------------------------------------------------------------------------------

    async def _ask(
        self,
        kernel_id: str,
        expression: str,
        timeout: float | None = None,
        resend: bool = True,
    ) -> dict[str, Any]:
        """``expression``'s answer; ``resend=False`` for one that must not run twice (it
        writes or binds), see ``_request``."""
        kernel = self._kernel(kernel_id)
        loop = asyncio.get_running_loop()
        timeout = self.timeout if timeout is None else timeout
        deadline = loop.time() + timeout
        channel = await self._channel(kernel_id, kernel, deadline)
        language = await self._language(kernel_id, kernel, channel, deadline)
        if not language.lower().startswith("python"):
            raise NoTracker.not_python(kernel_id, language)
        injected = False
        aborted_retries = 1
        while True:
            content = await self._execute(
                kernel_id, kernel, channel, "", {"revive": expression}, deadline, resend
            )
            status = content.get("status")
            if status == "aborted" and aborted_retries:
                # A user cell failed with stop_on_error and ipykernel aborted everything queued,
                # ours included: ask once more.
                aborted_retries -= 1
                await asyncio.sleep(0.05)
                continue
            if status != "ok":
                raise KernelBusy.timed_out(kernel_id, timeout)
            result = (content.get("user_expressions") or {}).get("revive") or {}
            if result.get("status") == "ok":
                return self._decode(kernel_id, result)
            reason = f"{result.get('ename', 'Error')}: {result.get('evalue', '')}".strip()
            if injected or not self.inject_fallback:
                raise NoTracker.absent(kernel_id, reason)
            await self._inject(kernel_id, kernel, channel, deadline)
            injected = True

    def _kernel(self, kernel_id: str) -> Any:
        try:
            return self.kernel_manager.get_kernel(kernel_id)
        except KeyError:
            self._drop(kernel_id)
            raise KernelNotFound.for_id(kernel_id) from None
        except Exception as e:  # jupyter_server raises web.HTTPError(404) from _check_kernel_id
            if getattr(e, "status_code", None) == 404:
                self._drop(kernel_id)
                raise KernelNotFound.for_id(kernel_id) from None
            raise

    async def _channel(self, kernel_id: str, kernel: Any, deadline: float) -> _Channel:
        loop = asyncio.get_running_loop()
        # A gateway kernel's manager never resolves jupyter_client's ``ready`` (the gateway
        # started the kernel): its start was over when the server learnt its id.
        ready = None if is_gateway_kernel(kernel) else getattr(kernel, "ready", None)
        if isinstance(ready, asyncio.Future) and not ready.done():
            try:  # still starting: the start counts against our timeout
                await asyncio.wait_for(asyncio.shield(ready), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise KernelBusy.timed_out(kernel_id, self.timeout) from None
            except Exception as e:
                raise KernelDead.not_alive(kernel_id, f"start failed: {e}") from e
        await self._check_alive(kernel_id, kernel)
        # Drop clients of kernels that are gone, and of this kernel's previous process.
        for known in list(self._channels):
            if known not in self.kernel_manager:
                self._drop(known)
        generation = _generation(kernel)
        channel = self._channels.get(kernel_id)
        if channel is not None and (channel.broken or channel.generation != generation):
            self._drop(kernel_id)
            channel = None
        if channel is None:
            channel = _Channel(_own_client(kernel), generation)
            self._channels[kernel_id] = channel
        busy = getattr(kernel, "execution_state", None) == "busy"
        while not channel.heard:
            # A busy kernel answers after its cell: one nudge, the whole timeout. An idle one
            # that does not answer gets a new connection every RECONNECT_S (see handshake).
            until = deadline if busy else min(deadline, loop.time() + RECONNECT_S)
            if await channel.handshake(until, resend=not busy):
                break
            self._drop(kernel_id, channel)
            if loop.time() >= deadline:
                await self._check_alive(kernel_id, kernel)
                raise KernelBusy.timed_out(kernel_id, self.timeout)
            channel = _Channel(_own_client(kernel), generation)
            self._channels[kernel_id] = channel
        return channel

    async def _check_alive(self, kernel_id: str, kernel: Any) -> None:
        state = getattr(kernel, "execution_state", None)
        is_alive = getattr(kernel, "is_alive", None)
        alive = True if is_alive is None else await _maybe_await(is_alive())
        if not alive or state == "dead":
            self._drop(kernel_id)
            raise KernelDead.not_alive(kernel_id, state)

    async def _language(
        self, kernel_id: str, kernel: Any, channel: _Channel, deadline: float
    ) -> str:
        if channel.language is not None:
            return channel.language
        language = None
        with contextlib.suppress(Exception):  # local kernels: the kernelspec says it
            language = kernel.kernel_spec.language
        if not language:  # remote/gateway kernels: the kernel itself says
            language = ((channel.info.get("language_info") or {}).get("name")) or ""
        channel.language = str(language)
        return channel.language

    async def _execute(
        self,
        kernel_id: str,
        kernel: Any,
        channel: _Channel,
        code: str,
        user_expressions: dict[str, str],
        deadline: float,
        resend: bool = True,
    ) -> dict[str, Any]:
        content = {
            "code": code,
            "silent": True,
            "store_history": False,
            "user_expressions": user_expressions,
            "allow_stdin": False,
            "stop_on_error": False,
        }
        return await self._request(
            kernel_id, kernel, channel, "execute_request", content, deadline, resend
        )

    async def _request(
        self,
        kernel_id: str,
        kernel: Any,
        channel: _Channel,
        msg_type: str,
        content: dict[str, Any],
        deadline: float,
        resend: bool,
    ) -> dict[str, Any]:
        """The reply's content. ``resend``: the request may run twice (it only reads), so it
        is asked again on a new connection when the old one lost it."""
        loop = asyncio.get_running_loop()
        gateway = is_gateway_kernel(kernel)

        def busy() -> bool | None:
            # A gateway kernel's state is the gateway's answer to the last model request, not
            # live: the kernel may be running a cell while it says idle.
            return None if gateway else getattr(kernel, "execution_state", None) == "busy"

        for attempt in range(1, ATTEMPTS + 1):
            try:
                reply = await channel.request(
                    msg_type, content, max(0.0, deadline - loop.time()), busy, resend
                )
                break
            except _NoReply as e:
                # (unsent: another query replaced the connection while this one waited its turn)
                log = self.log.warning if e.sent else self.log.debug
                log("jupyter-revive: kernel %s: no reply: %s", kernel_id, e)
                self._drop(kernel_id, channel)
                if (e.sent and not resend) or attempt == ATTEMPTS or loop.time() >= deadline:
                    await self._check_alive(kernel_id, kernel)  # dead beats unanswered
                    raise KernelBusy.unanswered(kernel_id, str(e)) from None
                channel = await self._channel(kernel_id, kernel, deadline)
        if reply is None:
            await self._check_alive(kernel_id, kernel)  # dead beats busy
            silent = loop.time() - channel.last_heard
            if not channel.awaited() and (not busy() or silent > SILENT_RECONNECT_S):
                # Unanswered while the kernel is idle (or for long) and no one else waits on
                # the connection (a checkpoint being written): the next query reconnects.
                self._drop(kernel_id, channel)
            raise KernelBusy.timed_out(kernel_id, self.timeout)
        return dict(reply.get("content") or {})

    async def _inject(
        self,
        kernel_id: str,
        kernel: Any,
        channel: _Channel,
        deadline: float,
        user_expressions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        self.log.info("jupyter-revive: injecting the tracker into kernel %s", kernel_id)
        content = await self._execute(
            kernel_id, kernel, channel, injection_code(), user_expressions or {}, deadline
        )
        if content.get("status") != "ok":
            reason = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
            raise NoTracker.absent(kernel_id, f"injection failed ({reason})")
        return content

    def _decode(self, kernel_id: str, result: dict[str, Any]) -> dict[str, Any]:
        # The tracker returns a JSON str; user_expressions hands back its repr as text/plain.
        text = (result.get("data") or {}).get("text/plain", "")
        try:
            answer = json.loads(ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError) as e:
            raise NoTracker.absent(kernel_id, f"unreadable answer ({e})") from e
        if not isinstance(answer, dict):
            raise NoTracker.absent(kernel_id, "unreadable answer (not a JSON object)")
        return answer

    def _drop(self, kernel_id: str, only: _Channel | None = None) -> None:
        """Close the kernel's channel (``only``: if it is still that one, not a newer one)."""
        if only is not None and self._channels.get(kernel_id) is not only:
            only.close()
            return
        channel = self._channels.pop(kernel_id, None)
        if channel is not None:
            channel.close()
