"""Translate what the anthropic SDK raises into the ``error`` event shown in the prompt cell.

The SDK's classes are mapped by meaning, not by message text: the kinds are what the UI branches
on (``no_key`` shows how to set a key, ``rate_limit`` may show a countdown), the message is what
the user reads.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, Literal, TypedDict

import anthropic

from .secrets import redact

ErrorKind = Literal[
    "no_key", "auth", "rate_limit", "server", "timeout", "connection", "bad_request"
]


class ErrorEvent(TypedDict, total=False):
    type: Literal["error"]
    kind: ErrorKind
    message: str
    status: int
    retry_after: float


def _http_classes(name: str) -> tuple[type[BaseException], ...]:
    # Read timeouts and dropped connections raised while iterating a stream come from the HTTP
    # library, unwrapped. anthropic 2.x uses httpx2, earlier releases httpx: take what is there.
    classes: list[type[BaseException]] = []
    for module in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError, AttributeError):
            classes.append(getattr(importlib.import_module(module), name))
    return tuple(classes)


_TIMEOUTS = (anthropic.APITimeoutError, TimeoutError, *_http_classes("TimeoutException"))
_TRANSPORT = (anthropic.APIConnectionError, ConnectionError, *_http_classes("TransportError"))

NO_KEY_MESSAGE = (
    "No Anthropic API key is configured on the Jupyter server. Set the ANTHROPIC_API_KEY "
    "environment variable before starting Jupyter (or c.ReviveGenerator.api_key in "
    "jupyter_server_config.py) and restart the server. The key stays on the server: it is never "
    "sent to the browser, the notebook or the kernel."
)

# The API's error.type for failures reported inside a stream that had already answered 200.
_STREAM_ERROR_KINDS: dict[str, ErrorKind] = {
    "authentication_error": "auth",
    "permission_error": "auth",
    "rate_limit_error": "rate_limit",
    "overloaded_error": "server",
    "api_error": "server",
    "timeout_error": "timeout",
    "invalid_request_error": "bad_request",
    "not_found_error": "bad_request",
    "request_too_large": "bad_request",
}


class IncompleteReply(ConnectionError):
    """The HTTP stream ended before the API's ``message_stop`` event."""


def no_key_event() -> ErrorEvent:
    return {"type": "error", "kind": "no_key", "message": NO_KEY_MESSAGE}


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    headers = exc.response.headers
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        return None  # an HTTP date; rare for this API and not worth parsing here
    return None


def _detail(exc: anthropic.APIStatusError) -> str:
    detail = getattr(exc, "api_message", None)
    if not detail and isinstance(exc.body, dict):
        error = exc.body.get("error")
        if isinstance(error, dict):
            detail = error.get("message")
    if not isinstance(detail, str) or not detail.strip():
        return "."
    detail = detail.strip()
    return f": {detail}" + ("" if detail[-1] in ".!?" else ".")


def error_event(
    exc: BaseException, *, model: str, base_url: str, timeout: float, secrets: tuple[str, ...] = ()
) -> ErrorEvent:
    """The ``error`` event for ``exc``; its message never contains ``secrets`` (the API key)."""
    event: ErrorEvent = {"type": "error"}
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.response.status_code
        detail = _detail(exc)
        kind = _status_kind(exc, status)
        event["kind"] = kind
        if status != 200:
            event["status"] = status
        where = f"HTTP {status}" if status != 200 else "reported during the reply"
        if kind == "auth" and status == 403:
            message = f"The API key may not use this model or feature ({where}){detail}"
        elif kind == "auth":
            message = (
                f"The Anthropic API rejected the API key ({where}){detail} Check "
                "ANTHROPIC_API_KEY (or c.ReviveGenerator.api_key) on the Jupyter server."
            )
        elif kind == "rate_limit":
            retry = _retry_after(exc)
            if retry is not None:
                event["retry_after"] = retry
            wait = f" Try again in {retry:g} s." if retry is not None else " Try again shortly."
            message = f"Anthropic's rate limit was reached ({where}){detail}{wait}"
        elif kind == "server" and (status == 529 or exc.type == "overloaded_error"):
            message = f"The Anthropic API is overloaded ({where}){detail} Try again in a moment."
        elif kind == "server":
            message = f"The Anthropic API failed ({where}){detail} Try again in a moment."
        elif kind == "timeout":
            message = f"The Anthropic API timed out ({where}){detail}"
        elif status == 404:
            message = (
                f"The Anthropic API does not know model {model!r} or this endpoint ({where})"
                f"{detail} Check c.ReviveGenerator.model."
            )
        else:
            message = f"The Anthropic API refused the request ({where}){detail}"
    elif isinstance(exc, _TIMEOUTS):
        event["kind"] = "timeout"
        message = (
            f"No answer from the Anthropic API within {timeout:g} s. Try again, or raise "
            "c.ReviveGenerator.timeout."
        )
    elif isinstance(exc, IncompleteReply):
        event["kind"] = "connection"
        message = (
            f"The connection to the Anthropic API at {base_url} closed before the reply was "
            "complete. Try again."
        )
    elif isinstance(exc, _TRANSPORT):
        event["kind"] = "connection"
        cause = exc.__cause__ or exc.__context__ or exc
        reason = f" ({cause})" if str(cause) and str(cause) != "Connection error." else ""
        message = f"Could not reach the Anthropic API at {base_url}{reason}."
    else:
        event["kind"] = "server"
        message = f"Generating code failed: {type(exc).__name__}: {exc}"
    event["message"] = redact(message, extra=secrets)
    return event


def _status_kind(exc: anthropic.APIStatusError, status: int) -> ErrorKind:
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status in (408, 504):
        return "timeout"
    if status >= 500:
        return "server"
    if status == 200:  # an `event: error` inside the stream
        return _STREAM_ERROR_KINDS.get(str(exc.type), "server")
    return "bad_request"


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Loggable facts about ``exc`` (class and status), never its request headers."""
    facts: dict[str, Any] = {"class": type(exc).__name__}
    if isinstance(exc, anthropic.APIStatusError):
        facts["status"] = exc.response.status_code
        facts["request_id"] = exc.request_id
    return facts
