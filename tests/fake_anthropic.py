"""A local, scriptable stand-in for the Anthropic Messages API (``POST /v1/messages``).

It speaks the wire format the official SDK expects (see NOTES-build.md): SSE events
``message_start, content_block_start, content_block_delta…, content_block_stop, message_delta,
message_stop`` for streams, one JSON message otherwise. Tests queue replies — text split into
deltas, HTTP errors, slow or hanging streams, errors inside a stream — and read back every request
received, headers included.

In-process (pytest, benchmarks)::

    with FakeAnthropic() as fake:
        fake.reply_text("```python\\nprint(1)\\n```", chunks=5, delay=0.01)
        client = anthropic.AsyncAnthropic(base_url=fake.url, api_key="test")

As a process (browser tests whose Jupyter server runs elsewhere)::

    python -m tests.fake_anthropic --port 8765 [--text "..."] [--delay 0.05]

then script it over HTTP: ``POST /_fake/replies`` with a JSON reply spec (the keyword arguments
of ``FakeAnthropic.reply``), ``GET /_fake/requests`` for what it received, ``POST /_fake/reset``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

DEFAULT_TEXT = "```python\nprint('hello from the fake model')\n```"
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    """One scripted answer. ``kind`` picks the behaviour; the other fields tune it."""

    kind: Literal["text", "error", "hang", "stream_error", "drop"] = "text"
    text: str = DEFAULT_TEXT
    chunks: int = 4  # text is cut into this many deltas (ignored when `deltas` is given)
    deltas: list[str] | None = None
    delay: float = 0.0  # seconds between two deltas
    first_delay: float = 0.0  # seconds after the headers, before the first delta
    thinking: str | None = None  # a thinking block sent before the text, as newer models do
    stop_reason: str = "end_turn"
    model: str | None = None  # None: echo the requested model
    status: int = 500  # kind="error"
    message: str = "fake error"
    error_type: str | None = None  # None: derived from status
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    after: int = 1  # kind="stream_error"/"drop": deltas sent before failing
    seconds: float | None = None  # kind="hang": how long; None until the server stops

    def pieces(self) -> list[str]:
        if self.deltas is not None:
            return list(self.deltas)
        n = max(1, min(self.chunks, len(self.text) or 1))
        size, extra = divmod(len(self.text), n)
        out, pos = [], 0
        for i in range(n):
            end = pos + size + (1 if i < extra else 0)
            out.append(self.text[pos:end])
            pos = end
        return [p for p in out if p] or [""]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    received_at: float
    deltas_sent: int = 0
    completed: bool = False  # the whole reply was written
    disconnected: bool = False  # the client went away before the reply was complete

    @property
    def api_key(self) -> str | None:
        """The credential the client sent, from ``x-api-key`` or ``Authorization: Bearer``."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


class FakeAnthropic:
    """The server plus its script and its record; start with ``with`` or ``start()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str | None = None):
        self.expected_api_key = api_key  # set: other keys get a 401 like the real API
        self.default_reply = Reply()
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> FakeAnthropic:
        # A short poll interval keeps stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-anthropic",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- script --------------------------------------------------------------------------------

    def reply(self, **spec: Any) -> Reply:
        """Queue one reply (fields of ``Reply``); replies are used first in, first out."""
        reply = Reply(**spec)
        with self._lock:
            self._replies.append(reply)
        return reply

    def reply_text(self, text: str = DEFAULT_TEXT, **spec: Any) -> Reply:
        return self.reply(kind="text", text=text, **spec)

    def reply_error(
        self,
        status: int,
        message: str = "fake error",
        *,
        retry_after: float | None = None,
        **spec: Any,
    ) -> Reply:
        headers = dict(spec.pop("headers", {}))
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        return self.reply(kind="error", status=status, message=message, headers=headers, **spec)

    def reply_hang(self, seconds: float | None = None) -> Reply:
        return self.reply(kind="hang", seconds=seconds)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default_reply

    # -- record --------------------------------------------------------------------------------

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        """Poll until ``predicate(self)`` is true; for asserting on what the handler threads did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return bool(predicate(self))

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _text_events(reply: Reply, msg_id: str, model: str, input_tokens: int) -> Iterator[bytes]:
    """The SSE events of one reply, the same sequence the real API sends."""
    yield _sse(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            },
        },
    )
    index = 0
    if reply.thinking is not None:
        yield _sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
        )
        yield _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": reply.thinking},
            },
        )
        yield _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "fake-signature"},
            },
        )
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    yield _sse(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
    )
    yield _sse("ping", {"type": "ping"})


def _make_handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeAnthropic/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        # -- plumbing --------------------------------------------------------------------------

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", "req_fake")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self) -> Any:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _error_body(self, status: int, message: str, error_type: str | None) -> dict[str, Any]:
            kind = error_type or _ERROR_TYPES.get(status, "api_error")
            return {
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": "req_fake",
            }

        # -- control API for out-of-process use ------------------------------------------------

        def do_GET(self) -> None:
            if self.path == "/_fake/requests":
                self._json(200, [asdict(r) for r in fake.requests])
            else:
                self._json(404, self._error_body(404, f"no route {self.path}", None))

        def do_POST(self) -> None:
            body = self._read_body()
            if self.path == "/_fake/replies":
                specs = body if isinstance(body, list) else [body]
                for spec in specs:
                    fake.reply(**spec)
                self._json(200, {"queued": len(specs)})
                return
            if self.path == "/_fake/reset":
                fake.reset()
                self._json(200, {"reset": True})
                return
            if self.path.split("?")[0] != "/v1/messages":
                self._json(404, self._error_body(404, f"no route {self.path}", None))
                return
            record = RecordedRequest(
                method="POST",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                received_at=time.time(),
            )
            with fake._lock:
                fake.requests.append(record)
            try:
                self._messages(record)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                record.disconnected = True
                self.close_connection = True

        # -- /v1/messages ----------------------------------------------------------------------

        def _messages(self, record: RecordedRequest) -> None:
            if fake.expected_api_key is not None and record.api_key != fake.expected_api_key:
                self._json(401, self._error_body(401, "invalid x-api-key", None))
                record.completed = True
                return
            reply = fake._next_reply()
            body = record.body if isinstance(record.body, dict) else {}
            if reply.kind == "error":
                self._json(
                    reply.status,
                    self._error_body(reply.status, reply.message, reply.error_type),
                    reply.headers,
                )
                record.completed = True
                return
            if reply.kind == "hang":
                # Say nothing at all, as a stuck upstream would, until released.
                fake._stopping.wait(reply.seconds)
                self.close_connection = True
                return
            model = reply.model or str(body.get("model", "claude-fake"))
            msg_id = f"msg_fake_{next(fake._ids)}"
            input_tokens = max(1, len(json.dumps(body)) // 4)
            pieces = reply.pieces()
            if not body.get("stream"):
                self._json(
                    200,
                    {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [{"type": "text", "text": "".join(pieces)}],
                        "stop_reason": reply.stop_reason,
                        "stop_sequence": None,
                        "usage": {"input_tokens": input_tokens, "output_tokens": len(pieces)},
                    },
                    reply.headers,
                )
                record.completed = True
                return
            self._stream(record, reply, pieces, msg_id, model, input_tokens)

        def _stream(
            self,
            record: RecordedRequest,
            reply: Reply,
            pieces: list[str],
            msg_id: str,
            model: str,
            input_tokens: int,
        ) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("request-id", "req_fake")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.close_connection = True  # HTTP/1.0 style: the end of the body is the close
            for chunk in _text_events(reply, msg_id, model, input_tokens):
                self.wfile.write(chunk)
            index = 1 if reply.thinking is not None else 0
            if reply.first_delay and fake._stopping.wait(reply.first_delay):
                return
            for i, piece in enumerate(pieces):
                if reply.kind in ("stream_error", "drop") and i >= reply.after:
                    break
                if i and reply.delay and fake._stopping.wait(reply.delay):
                    return
                self.wfile.write(
                    _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
                )
                record.deltas_sent += 1
            if reply.kind == "drop":
                return  # connection closes mid-message
            if reply.kind == "stream_error":
                self.wfile.write(
                    _sse(
                        "error",
                        self._error_body(
                            reply.status, reply.message, reply.error_type or "overloaded_error"
                        ),
                    )
                )
                record.completed = True
                return
            self.wfile.write(
                _sse("content_block_stop", {"type": "content_block_stop", "index": index})
            )
            self.wfile.write(
                _sse(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                        "usage": {"output_tokens": len(pieces)},
                    },
                )
            )
            self.wfile.write(_sse("message_stop", {"type": "message_stop"}))
            record.completed = True

    return Handler


def start_fake_anthropic(port: int = 0, *, api_key: str | None = None) -> tuple[str, FakeAnthropic]:
    """Start a fake in a background thread; returns ``(base_url, controller)``. Stop it with
    ``controller.stop()``."""
    fake = FakeAnthropic(port=port, api_key=api_key).start()
    return fake.url, fake


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="default reply text")
    parser.add_argument("--chunks", type=int, default=8, help="deltas per default reply")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between deltas")
    parser.add_argument("--api-key", default=None, help="reject other keys with 401")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(args.host, args.port, api_key=args.api_key)
    fake.default_reply = Reply(text=args.text, chunks=args.chunks, delay=args.delay)
    # One line on stdout that a test harness can wait for and parse.
    print(f"fake-anthropic listening on {fake.url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._stopping.set()
        fake._server.server_close()


if __name__ == "__main__":
    main()
