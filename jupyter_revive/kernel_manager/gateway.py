"""Kernels behind a Jupyter Kernel Gateway or Enterprise Gateway (``jupyter lab --gateway-url``).

In gateway mode jupyter_server swaps in ``GatewayMappingKernelManager``: our provisioner never
runs, the kernel's files are on another host, and the only way into the kernel is its channels,
which the gateway serves as one websocket per connection (the same protocol for Kernel Gateway
and Enterprise Gateway). ``GatewayShell`` is our own such connection, for the shell channel only.

Why not jupyter_server's ``GatewayKernelClient``: its ``start_channels`` is a coroutine that
connects with a blocking call on the server's event loop, its ``get_msg`` polls with
``asyncio.sleep(0)`` (a loop that never rests while it waits), and its router thread stops at
the first message of a channel that was not started (iopub, which the gateway always sends).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from tornado.escape import url_escape
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect


def is_gateway_kernel(kernel: Any) -> bool:
    """Whether ``kernel`` (one kernel's manager) runs behind a gateway."""
    try:
        from jupyter_server.gateway.managers import GatewayKernelManager
    except ImportError:  # pragma: no cover - jupyter_server is a dependency
        return False
    return isinstance(kernel, GatewayKernelManager)


def _channels_request(kernel_id: str, session_id: str) -> HTTPRequest:
    """The gateway's websocket for one kernel, with the server's gateway credentials."""
    from jupyter_server.gateway.gateway_client import GatewayClient
    from jupyter_server.utils import url_path_join

    client = GatewayClient.instance()
    url = url_path_join(
        client.ws_url or "", client.kernels_endpoint, url_escape(kernel_id), "channels"
    )
    url += f"?session_id={url_escape(session_id)}"
    return HTTPRequest(url, **client.load_connection_args())


class GatewayShell:
    """The shell channel of one gateway kernel over a websocket of its own.

    Offers what ``query._Channel`` uses of a kernel client: ``session``, ``start_channels``,
    ``stop_channels`` and ``shell_channel`` with ``send`` and ``get_msg``. Messages sent before
    the websocket is open wait for it, in order; messages of other channels (iopub, status) are
    read and dropped.
    """

    def __init__(self, kernel_id: str, session: Session) -> None:
        self.kernel_id = kernel_id
        self.session = session
        self.shell_channel = self
        self._connecting: asyncio.Future[WebSocketClientConnection] | None = None
        self._ws: WebSocketClientConnection | None = None
        self._outbox: list[str] = []

    def start_channels(self, **_: Any) -> None:
        request = _channels_request(self.kernel_id, self.session.session)
        self._connecting = asyncio.ensure_future(websocket_connect(request))
        self._connecting.add_done_callback(self._opened)

    def _opened(self, future: asyncio.Future[WebSocketClientConnection]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # get_msg raises it to the reader
        self._ws = future.result()
        for text in self._outbox:
            self._ws.write_message(text)
        self._outbox.clear()

    def send(self, msg: dict[str, Any]) -> None:
        text = json.dumps(dict(msg, channel="shell"), default=json_default)
        if self._ws is None:
            if self._connecting is None or self._connecting.done():
                raise ConnectionError("the gateway websocket is not open")
            self._outbox.append(text)
        else:
            try:
                self._ws.write_message(text)
            except WebSocketClosedError as e:
                raise ConnectionError("the gateway closed the websocket") from e

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next shell message; ``ConnectionError`` once the websocket is closed."""
        if self._connecting is None:
            raise ConnectionError("start_channels was not called")
        ws = await asyncio.wait_for(asyncio.shield(self._connecting), timeout)
        while True:
            # No wait_for around the read when there is no timeout: a cancelled read could lose
            # the message it was about to deliver.
            reading = ws.read_message()
            text = await (reading if timeout is None else asyncio.wait_for(reading, timeout))
            if text is None:
                raise ConnectionError("the gateway closed the websocket")
            if not isinstance(text, str):
                continue  # binary frames carry buffers of iopub messages
            msg = json.loads(text)
            if isinstance(msg, dict) and msg.get("channel") == "shell":
                return msg

    def stop_channels(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
        self._outbox.clear()
