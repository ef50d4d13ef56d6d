"""Thin REST handlers: authenticate, authorize, call a manager, translate its errors once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nbformat
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.iostream import StreamClosedError

from .dataflow.planner import plan_notebook
from .kernel_manager.errors import (
    KernelBusy,
    KernelDead,
    KernelNotFound,
    KernelQueryError,
    NoTracker,
)
from .kernel_manager.query import ReviveKernelQuery
from .prompts import (
    PromptContext,
    ReviveContextBuilder,
    ReviveGenerator,
    extract_mentions,
    guard_report,
)
from .prompts.generator import client_options

_KERNEL_ID = r"(?P<kernel_id>[\w-]+)"


@contextmanager
def _http_errors() -> Iterator[None]:
    """The one place where domain exceptions become HTTP status codes."""
    try:
        yield
    except KernelNotFound as e:
        raise web.HTTPError(404, str(e)) from e
    except NoTracker as e:
        raise web.HTTPError(409, str(e)) from e
    except (KernelBusy, KernelDead) as e:
        # Both pass: a busy kernel goes idle, a dead one is usually being restarted.
        raise web.HTTPError(503, str(e)) from e


class ReviveHandler(ExtensionHandlerMixin, APIHandler):
    @property
    def kernel_query(self) -> ReviveKernelQuery:
        return self.settings["revive_kernel_query"]

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise web.HTTPError(400, f"Request body is not JSON: {e}") from e
        if not isinstance(body, dict):
            raise web.HTTPError(400, "Request body must be a JSON object.")
        return body


class KernelContextHandler(ReviveHandler):
    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        with _http_errors():
            answer = await self.kernel_query.context(kernel_id)
        self.finish(json.dumps(answer))


class KernelVariablesHandler(ReviveHandler):
    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        names = [n for n in self.get_arguments("name") if n] or None
        detail = self.get_argument("detail", "false").lower() in ("1", "true", "yes")
        with _http_errors():
            answer = await self.kernel_query.variables(kernel_id, names=names, detail=detail)
        self.finish(json.dumps(answer))


class PlanHandler(ReviveHandler):
    """`POST plan` with `{notebook, names?, kernel_id?}`: the restore plan (CLI JSON contract)."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        nb = _notebook_from(body.get("notebook"))
        names = body.get("names")
        if names is not None and not (
            isinstance(names, list) and all(isinstance(n, str) for n in names)
        ):
            raise web.HTTPError(400, "names must be a list of strings or null.")
        live: set[str] = set()
        kernel_id = body.get("kernel_id")
        if kernel_id:
            try:
                with _http_errors():
                    answer = await self.kernel_query.names(kernel_id)
                live = set(answer.get("names", []))
            except web.HTTPError as e:
                if e.status_code == 404:
                    raise
                # A busy kernel or one without a tracker: plan as if it held nothing.
                self.log.info("jupyter-revive: planning without live names: %s", e.log_message)
        plan = plan_notebook(nb, names=names, live_names=live)
        self.finish(json.dumps(plan.to_json()))


class GenerateHandler(ReviveHandler):
    """`POST generate` with `{prompt, cell_id, notebook, kernel_id?, feedback?, options?}`.

    Streams the generator's events as newline-delimited JSON; the final `done` event carries
    the missing-variable guard (`missing`, `plan`). Closing the request cancels the LLM call.
    """

    auth_resource = "kernels"
    max_prompt_chars = 20_000

    @property
    def builder(self) -> ReviveContextBuilder:
        return self.settings["revive_context_builder"]

    @property
    def generator(self) -> ReviveGenerator:
        return self.settings["revive_generator"]

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise web.HTTPError(400, "prompt must be a non-empty string.")
        if len(prompt) > self.max_prompt_chars:
            raise web.HTTPError(400, f"prompt is longer than {self.max_prompt_chars} characters.")
        feedback = body.get("feedback")
        if isinstance(feedback, str) and feedback.strip():
            prompt = f"{prompt}\n\n(Feedback on the previous attempt: {feedback.strip()})"
        nb = _notebook_from(body.get("notebook"))
        try:
            options = client_options(body.get("options"))
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from e
        kernel_id = body.get("kernel_id") or None
        summary, details = await self._kernel_view(kernel_id, extract_mentions(prompt))
        ctx = self.builder.build(
            prompt, nb, cell_id=body.get("cell_id"), variables=summary, details=details
        )

        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # proxies must not hold the stream back
        self._cancel = asyncio.Event()
        stream = self.generator.stream(
            ctx.system, ctx.messages, cancel=self._cancel, options=options
        )
        try:
            async for event in stream:
                if event["type"] == "start":
                    event["variables"] = list(ctx.variables_shown)
                elif event["type"] == "done":
                    event.update(await self._guard(event["code"], ctx, nb, kernel_id))
                self.write(json.dumps(event) + "\n")
                await self.flush()
        except StreamClosedError:
            self._cancel.set()  # the browser went away: stop the upstream call
        finally:
            await stream.aclose()
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        cancel = getattr(self, "_cancel", None)
        if cancel is not None:
            cancel.set()

    async def _kernel_view(
        self, kernel_id: str | None, mentions: list[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The kernel's variables summary and `@name` details; None where it can't answer."""
        if not kernel_id:
            return None, None
        try:
            summary = await self.kernel_query.variables(kernel_id)
            details = (
                await self.kernel_query.variables(kernel_id, names=mentions, detail=True)
                if mentions
                else None
            )
        except KernelQueryError as e:
            # The context then says the kernel could not be read; generation still works.
            self.log.info("jupyter-revive: generating without kernel variables: %s", e)
            return None, None
        return summary, details

    async def _guard(
        self, code: str, ctx: PromptContext, nb: nbformat.NotebookNode, kernel_id: str | None
    ) -> dict[str, Any]:
        report = guard_report(code, ctx.live_names, nb)
        missing = report["missing"]
        if missing and kernel_id and not ctx.live_names_complete:
            # The summary was cut: ask the kernel about exactly these names before warning.
            try:
                answer = await self.kernel_query.variables(kernel_id, names=missing)
                present = {v["name"] for v in answer.get("variables", [])}
            except KernelQueryError:
                present = set()
            if present:
                report = guard_report(code, set(ctx.live_names) | present, nb)
        return {"missing": report["missing"], "plan": report["plan"]}


def _notebook_from(data: Any) -> nbformat.NotebookNode:
    """A validated notebook from a request body, or a 400 that says what is wrong."""
    if not isinstance(data, dict):
        raise web.HTTPError(400, "notebook must be an nbformat JSON object.")
    try:
        nb = nbformat.from_dict(data)
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
        nbformat.validate(nb)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise web.HTTPError(400, f"Invalid notebook: {first_line}") from e
    return nb


def routes() -> list[tuple[str, type[ReviveHandler]]]:
    return [
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/context", KernelContextHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/variables", KernelVariablesHandler),
        (r"/jupyter-revive/plan", PlanHandler),
        (r"/jupyter-revive/generate", GenerateHandler),
    ]
