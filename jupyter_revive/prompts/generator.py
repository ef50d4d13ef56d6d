"""Server-side calls to Claude through the official SDK, as a stream of small JSON-able events.

Events, in order: ``start`` (the API accepted the request), ``delta``* (reply text as it arrives),
then exactly one of ``done``, ``error`` or ``cancelled``. An error before the API answered comes
without ``start``. The API key lives only in this object and in the SDK client it configures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import anthropic
from traitlets import Enum, Float, Int, TraitError, Unicode, default, observe, validate
from traitlets.config import LoggingConfigurable

from ..inputs import InvalidInput
from .codeblock import extract_code
from .errors import IncompleteReply, describe_exception, error_event, no_key_event
from .secrets import REDACTED

DEFAULT_MODEL = "claude-sonnet-5-5"

Event = dict[str, Any]


class ReviveGenerator(LoggingConfigurable):
    """Streams a reply from the Anthropic Messages API for a prepared ``system`` + ``messages``."""

    api_key = Unicode(
        None,
        allow_none=True,
        config=True,
        help=(
            "Anthropic API key. Defaults to the ANTHROPIC_API_KEY environment variable of the "
            "server. Never logged and never sent to the browser, the notebook or the kernel. "
            "None or empty: generation answers with a `no_key` error."
        ),
    )
    base_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help=(
            "Base URL of the Anthropic API (or a compatible proxy). None: the SDK's default, "
            "which honours ANTHROPIC_BASE_URL."
        ),
    )
    model = Unicode(DEFAULT_MODEL, config=True, help="Claude model that writes the code.")
    max_tokens = Int(
        8192,
        config=True,
        help=(
            "Upper bound on output tokens per reply (thinking plus code on models that think). "
            "A ceiling, not a spend."
        ),
    )
    temperature = Float(
        None,
        allow_none=True,
        config=True,
        help=(
            "Sampling temperature, 0-1. None (the default) leaves it out of the request, which "
            "is required by Claude 5 models and API version 2026-10-21: they reject any value."
        ),
    )
    effort = Enum(
        ["low", "medium", "high", "xhigh", "max"],
        default_value="low",
        allow_none=True,
        config=True,
        help=(
            "output_config.effort: how much the model thinks before answering. 'low' keeps the "
            "first code token quick for notebook-sized requests. None leaves it to the model "
            "(use None for models that do not accept effort)."
        ),
    )
    timeout = Float(
        60.0,
        config=True,
        help=(
            "Seconds to wait for the API to connect, to answer and between two pieces of the "
            "streamed reply, before reporting a timeout."
        ),
    )
    max_retries = Int(
        0,
        config=True,
        help=(
            "Retries of a failed request by the SDK (with backoff). 0: errors reach the cell at "
            "once and the user decides to retry."
        ),
    )

    @default("api_key")
    def _api_key_default(self) -> str | None:
        return os.environ.get("ANTHROPIC_API_KEY") or None

    @validate("max_tokens", "max_retries")
    def _non_negative(self, proposal: Any) -> int:
        if proposal["value"] < (1 if proposal["trait"].name == "max_tokens" else 0):
            raise TraitError(f"{proposal['trait'].name} is out of range: {proposal['value']}")
        value: int = proposal["value"]
        return value

    @validate("timeout")
    def _positive_timeout(self, proposal: Any) -> float:
        if proposal["value"] <= 0:
            raise TraitError("timeout must be > 0 seconds")
        value: float = proposal["value"]
        return value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client: anthropic.AsyncAnthropic | None = None

    @observe("api_key", "base_url", "timeout", "max_retries")
    def _forget_client(self, change: Any) -> None:
        # The SDK client bakes these in; the next request builds a new one.
        old, self._client = getattr(self, "_client", None), None
        if old is not None:
            with contextlib.suppress(RuntimeError):  # no running loop: let it be collected
                asyncio.get_running_loop().create_task(old.close())

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    def describe(self) -> dict[str, Any]:
        """Settings safe to show in the browser (the key only as present/absent)."""
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "effort": self.effort,
            "has_key": self.has_key,
        }

    def client(self) -> anthropic.AsyncAnthropic:
        """The SDK client, built once: its connection pool and TLS context are worth reusing."""
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=anthropic.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                max_retries=self.max_retries,
            )
        return self._client

    async def close(self) -> None:
        """Release the HTTP connection pool (call from the extension's stop hook)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def request_params(
        self,
        system: str,
        messages: Sequence[Mapping[str, Any]],
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for ``messages.stream``; never contains the key.

        ``options`` are the user's choices from JupyterLab settings (model, max_tokens,
        temperature), already checked by ``client_options``; never a base URL or key.
        """
        options = options or {}
        temperature = options.get("temperature", self.temperature)
        params: dict[str, Any] = {
            "model": options.get("model") or self.model,
            "max_tokens": options.get("max_tokens") or self.max_tokens,
            "system": self._scrub(system),
            "messages": [self._scrub_message(m) for m in messages],
        }
        if self.effort is not None:
            params["output_config"] = {"effort": self.effort}
        if temperature is not None:
            # Not a parameter of the 2.x SDK any more; models that still take it get it raw.
            params["extra_body"] = {"temperature": temperature}
        return params

    def _scrub(self, text: str) -> str:
        # The context builder already redacts key-shaped strings; this also catches the server's
        # own key in any shape, in case a user pasted it into a cell or a prompt.
        key = self.api_key
        return text.replace(key, REDACTED) if key and key in text else text

    def _scrub_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        content = message.get("content")
        if isinstance(content, str):
            content = self._scrub(content)
        elif isinstance(content, list):
            content = [
                {**block, "text": self._scrub(block["text"])}
                if isinstance(block, Mapping) and isinstance(block.get("text"), str)
                else block
                for block in content
            ]
        return {**message, "content": content}

    async def stream(
        self,
        system: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        cancel: asyncio.Event | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Stream one reply as events; see the module docstring for their order.

        Setting ``cancel`` (the user pressed Stop) or closing this iterator (the browser went
        away) closes the upstream HTTP stream, so the API stops generating and billing.
        """
        if not self.api_key:
            yield dict(no_key_event())
            return
        params = self.request_params(system, messages, options)
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        started = time.monotonic()
        client = self.client()
        pump = asyncio.create_task(_pump(client, params, queue))
        watcher = asyncio.create_task(_watch(cancel, queue)) if cancel is not None else None
        parts: list[str] = []
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "start":
                    yield {"type": "start", "model": payload["model"], "id": payload["id"]}
                elif kind == "delta":
                    parts.append(payload)
                    yield {"type": "delta", "text": payload}
                elif kind == "final":
                    text = "".join(parts)
                    self.log.info(
                        "jupyter-revive: generated %d chars with %s in %.1f s (%s)",
                        len(text),
                        self.model,
                        time.monotonic() - started,
                        payload["stop_reason"],
                    )
                    yield {"type": "done", "text": text, "code": extract_code(text), **payload}
                    return
                elif kind == "error":
                    self.log.warning(
                        "jupyter-revive: generation failed: %s", describe_exception(payload)
                    )
                    yield dict(
                        error_event(
                            payload,
                            model=self.model,
                            base_url=str(client.base_url),
                            timeout=self.timeout,
                            secrets=(self.api_key or "",),
                        )
                    )
                    return
                elif kind == "cancelled":
                    yield {"type": "cancelled", "text": "".join(parts)}
                    return
        finally:
            # Cancelling the pump exits the SDK's `async with`, which closes the HTTP response.
            for task in (pump, watcher):
                if task is not None:
                    task.cancel()
            await asyncio.gather(pump, *([watcher] if watcher else []), return_exceptions=True)


async def _pump(
    client: anthropic.AsyncAnthropic,
    params: dict[str, Any],
    queue: asyncio.Queue[tuple[str, Any]],
) -> None:
    """Read the SDK stream into ``queue``; runs as a task so that Stop can cancel it mid-read."""
    try:
        stopped = False
        async with client.messages.stream(**params) as stream:
            async for event in stream:
                if event.type == "text":
                    queue.put_nowait(("delta", event.text))
                elif event.type == "message_start":
                    queue.put_nowait(
                        ("start", {"model": event.message.model, "id": event.message.id})
                    )
                elif event.type == "message_stop":
                    stopped = True
                # Thinking, signatures and pings are not code: the cell never sees them.
            if not stopped:
                # The SDK ends quietly when the connection drops mid-reply; a partial reply
                # must not look finished, or half a cell of code would be run.
                raise IncompleteReply()
            final = await stream.get_final_message()
        usage = final.usage.model_dump(exclude_none=True) if final.usage else {}
        queue.put_nowait(
            ("final", {"stop_reason": final.stop_reason, "usage": usage, "model": final.model})
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        queue.put_nowait(("error", exc))


async def _watch(cancel: asyncio.Event, queue: asyncio.Queue[tuple[str, Any]]) -> None:
    await cancel.wait()
    queue.put_nowait(("cancelled", None))


def client_options(raw: Any) -> dict[str, Any]:
    """The LLM choices a browser may make, checked; anything else is ``InvalidInput``.

    Only model, max_tokens and temperature: a client-chosen base URL could send the server's
    API key to another host, so it is never accepted from a request.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput("options must be an object")
    unknown = set(raw) - {"model", "max_tokens", "temperature"}
    if unknown:
        raise InvalidInput(f"options not accepted from the browser: {', '.join(sorted(unknown))}")
    options: dict[str, Any] = {}
    model = raw.get("model")
    if model is not None:
        if not isinstance(model, str) or not model.strip() or len(model) > 200:
            raise InvalidInput("options.model must be a model name")
        options["model"] = model.strip()
    max_tokens = raw.get("max_tokens")
    if max_tokens is not None:
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise InvalidInput("options.max_tokens must be a positive integer")
        options["max_tokens"] = max_tokens
    temperature = raw.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
            raise InvalidInput("options.temperature must be between 0 and 1")
        options["temperature"] = float(temperature)
    return options
