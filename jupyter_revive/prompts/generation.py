"""One prompt cell's generation, start to end, as the events the browser reads.

What the kernel holds (the variables summary, details of the ``@name`` mentions) → the context
→ the generator's stream → the missing-variable guard on the finished code. The events are the
generator's (``start``, ``delta``…, then exactly one of ``done``, ``error``, ``cancelled``) with
two additions the frontend (src/generate.ts) reads: ``start`` lists the ``variables`` shown to
the model, and ``done`` carries the guard's ``missing`` names and restore ``plan``.

No tornado here: the generate handler parses the request, builds a ``Generation`` from the
managers it holds and writes each event as one JSON line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..kernel_manager.errors import KernelQueryError
from .context import PromptContext, ReviveContextBuilder
from .generator import Event, ReviveGenerator
from .guard import guard_report
from .mentions import extract_mentions


class KernelVariables(Protocol):
    """The one kernel question a generation asks (``ReviveKernelQuery`` answers it)."""

    async def variables(
        self, kernel_id: str, names: list[str] | None = None, detail: bool = False
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class GenerateRequest:
    """A prompt cell's request, already checked by the handler."""

    prompt: str
    notebook: Mapping[str, Any]
    cell_id: str | None = None
    kernel_id: str | None = None  # None: no kernel, the context says so
    feedback: str | None = None  # the user's words on the previous attempt (Regenerate)
    options: Mapping[str, Any] = field(default_factory=dict)  # from ``client_options``

    @property
    def text(self) -> str:
        """The prompt as the model reads it, the feedback folded in."""
        feedback = (self.feedback or "").strip()
        if not feedback:
            return self.prompt
        return f"{self.prompt}\n\n(Feedback on the previous attempt: {feedback})"


class Generation:
    """Runs one ``GenerateRequest``; iterate ``events()`` once, ``cancel()`` from anywhere."""

    def __init__(
        self,
        request: GenerateRequest,
        *,
        builder: ReviveContextBuilder,
        generator: ReviveGenerator,
        kernel: KernelVariables | None = None,
    ) -> None:
        self.request = request
        self.builder = builder
        self.generator = generator
        self.kernel = kernel
        self._cancel = asyncio.Event()

    def cancel(self) -> None:
        """Stop: the user pressed Stop or the browser went away. The API call is closed."""
        self._cancel.set()

    async def events(self) -> AsyncGenerator[Event, None]:
        request = self.request
        prompt = request.text
        summary, details = await self._kernel_view(extract_mentions(prompt))
        ctx = self.builder.build(
            prompt, request.notebook, cell_id=request.cell_id, variables=summary, details=details
        )
        if self._cancel.is_set():  # gone while the kernel was read: don't start the API call
            yield {"type": "cancelled", "text": ""}
            return
        stream = self.generator.stream(
            ctx.system, ctx.messages, cancel=self._cancel, options=request.options
        )
        try:
            async for event in stream:
                if event["type"] == "start":
                    event["variables"] = list(ctx.variables_shown)
                elif event["type"] == "done":
                    event.update(await self._guard(event["code"], ctx))
                yield event
        finally:
            await stream.aclose()

    async def _kernel_view(
        self, mentions: list[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The kernel's variables summary and ``@name`` details; None where it can't answer."""
        kernel_id = self.request.kernel_id
        if self.kernel is None or not kernel_id:
            return None, None
        try:
            summary = await self.kernel.variables(kernel_id)
            details = (
                await self.kernel.variables(kernel_id, names=mentions, detail=True)
                if mentions
                else None
            )
        except KernelQueryError as e:
            # The context then says the kernel could not be read; generation still works.
            self.generator.log.info("jupyter-revive: generating without kernel variables: %s", e)
            return None, None
        return summary, details

    async def _guard(self, code: str, ctx: PromptContext) -> dict[str, Any]:
        """``{"missing", "plan"}`` for the finished code."""
        notebook = self.request.notebook
        report = guard_report(code, ctx.live_names, notebook)
        missing = report["missing"]
        kernel_id = self.request.kernel_id
        if missing and self.kernel is not None and kernel_id and not ctx.live_names_complete:
            # The summary was cut or never came: ask the kernel about exactly these names.
            try:
                answer = await self.kernel.variables(kernel_id, names=missing)
            except KernelQueryError as e:
                # A kernel that cannot answer (busy, dying) has not said the names are gone:
                # "the kernel does not hold x" would be a guess; running the code tells.
                self.generator.log.info("jupyter-revive: guard could not ask the kernel: %s", e)
                return {"missing": [], "plan": None}
            present = {v["name"] for v in answer.get("variables", [])}
            if present:
                report = guard_report(code, set(ctx.live_names) | present, notebook)
        return {"missing": report["missing"], "plan": report["plan"]}
