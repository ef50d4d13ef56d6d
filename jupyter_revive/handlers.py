"""Thin REST handlers: authenticate, authorize, parse, call a manager, translate its errors once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.iostream import StreamClosedError

from . import inputs
from .checkpoint import CheckpointRefused, KeyUnusable, ReviveCheckpoints
from .contract import notebook_context, notebook_identity
from .dataflow.check import findings
from .dataflow.graph import build_graph
from .dataflow.loading import CheckpointOffer, plan_restore
from .inputs import InvalidInput
from .kernel_manager.errors import KernelBusy, KernelDead, KernelNotFound, NoTracker
from .kernel_manager.query import ReviveKernelQuery
from .prompts import GenerateRequest, Generation, ReviveContextBuilder, ReviveGenerator
from .prompts.generator import client_options

_KERNEL_ID = r"(?P<kernel_id>[\w-]+)"


@contextmanager
def _http_errors() -> Iterator[None]:
    """The one place where domain exceptions become HTTP status codes (with a JSON body)."""
    try:
        yield
    except InvalidInput as e:
        raise web.HTTPError(400, str(e)) from e
    except KernelNotFound as e:
        raise web.HTTPError(404, str(e)) from e
    except (NoTracker, CheckpointRefused, KeyUnusable) as e:
        raise web.HTTPError(409, str(e)) from e
    except (KernelBusy, KernelDead) as e:
        # Both pass: a busy kernel goes idle, a dead one is usually being restarted.
        raise web.HTTPError(503, str(e)) from e


class ReviveHandler(ExtensionHandlerMixin, APIHandler):
    @property
    def kernel_query(self) -> ReviveKernelQuery:
        return self.settings["revive_kernel_query"]

    @property
    def checkpoints(self) -> ReviveCheckpoints:
        return self.settings["revive_checkpoints"]


class KernelCheckpointHandler(ReviveHandler):
    """`POST kernels/<id>/checkpoint` with `{notebook, names?, budget_s?, cap_bytes?}`: write a
    signed checkpoint (``budget_s``: skip groups that would take longer to write; ``cap_bytes``:
    the user's per-notebook cap)."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            notebook = inputs.identifier(body.get("notebook"), "notebook")
            names = inputs.names(body.get("names"))
            budget = inputs.optional_seconds(body.get("budget_s"), "budget_s")
            cap = inputs.optional_bytes(body.get("cap_bytes"), "cap_bytes")
            answer = await self.checkpoints.take(
                self.kernel_query, kernel_id, notebook, names, budget, cap
            )
        self.finish(json.dumps(answer))


class KernelNotebookHandler(ReviveHandler):
    """`PUT kernels/<id>/notebook` with `{notebook, cap_bytes?}`: the kernel holds that
    notebook's state, so it is checkpointed before a shutdown or restart (``cap_bytes``: the
    user's per-notebook cap); `{notebook: null}` undoes it."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def put(self, kernel_id: str) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            raw = body.get("notebook")
            notebook = None if raw is None else inputs.identifier(raw, "notebook")
            cap = inputs.optional_bytes(body.get("cap_bytes"), "cap_bytes")
            if kernel_id not in self.kernel_manager:
                raise KernelNotFound.for_id(kernel_id)
            self.settings["revive_shutdown_checkpoints"].serve(kernel_id, notebook, cap)
        self.set_status(204)
        self.finish()


class KernelLoadHandler(ReviveHandler):
    """`POST kernels/<id>/load` with `{notebook, checkpoint, names?}`: load a verified one."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            notebook = inputs.identifier(body.get("notebook"), "notebook")
            checkpoint = inputs.identifier(body.get("checkpoint"), "checkpoint")
            names = inputs.names(body.get("names"))
            answer = await self.checkpoints.load(
                self.kernel_query, kernel_id, notebook, checkpoint, names
            )
        self.finish(json.dumps(answer))


class CheckpointsHandler(ReviveHandler):
    """`GET checkpoints[?notebook=<id>]`: the verified checkpoints, newest first."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with _http_errors():
            notebook = self.get_argument("notebook", None)
            if notebook is not None:
                notebook = inputs.identifier(notebook, "notebook")
            listed = self.checkpoints.listed(notebook)
        self.finish(json.dumps({"checkpoints": listed}))


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


class _Planning(ReviveHandler):
    """What the plan and the graph share: the notebook's checkpoints and the kernel's names."""

    def _offers(self, nb: Any) -> list[CheckpointOffer]:
        identity = notebook_identity(nb)
        if identity is None:
            return []
        try:
            notebook = inputs.identifier(identity, "notebook")
            return self.checkpoints.offers(notebook, notebook_context(nb))
        except (InvalidInput, CheckpointRefused, KeyUnusable) as e:
            # Plan without them: replaying is slower but still right.
            self.log.warning("jupyter-revive: no checkpoint for the plan: %s", e)
            return []

    async def _kernel_names(self, kernel_id: str | None) -> tuple[str | None, set[str]]:
        """The kernel's context and live names; (None, empty) when it cannot say."""
        if kernel_id is None:
            return None, set()
        try:
            answer = await self.kernel_query.names(kernel_id)
        except (NoTracker, KernelBusy, KernelDead) as e:
            # Plan as if it held nothing; an unknown kernel id stays an error (404).
            self.log.info("jupyter-revive: planning without live names: %s", e)
            return None, set()
        return answer.get("context"), set(answer.get("names", []))


class PlanHandler(_Planning):
    """`POST plan` with `{notebook, names?, kernel_id?, load_stale?, use_checkpoints?}`: the
    restore plan (the CLI's JSON), loading the notebook's checkpoints where that is faster."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            nb = inputs.notebook(body.get("notebook"))
            names = inputs.names(body.get("names"))
            load_stale = inputs.flag(body.get("load_stale"), "load_stale")
            kernel_id = inputs.optional_text(body.get("kernel_id"), "kernel_id")
            _, live = await self._kernel_names(kernel_id)
            use = body.get("use_checkpoints") is not False
            offers = self._offers(nb) if use else []
            plan = plan_restore(nb, names, live, offers, load_stale)
        self.finish(json.dumps(plan.to_json()))


class GraphHandler(_Planning):
    """`POST graph` with `{notebook, kernel_id?}`: the executions as a graph (``dataflow.graph``)
    with each node's state: live, or lost and what a restore does with it."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            nb = inputs.notebook(body.get("notebook"))
            kernel_id = inputs.optional_text(body.get("kernel_id"), "kernel_id")
            context, live_names = await self._kernel_names(kernel_id)
            recorded = notebook_context(nb)
            live = None if context is None or recorded is None else context == recorded
            restore = None
            if live is False:
                restore = plan_restore(nb, None, live_names, self._offers(nb))
            graph = build_graph(nb, live, restore)
        self.finish(json.dumps(graph.to_json()))


class CheckHandler(ReviveHandler):
    """`POST check` with `{notebook}`: why its saved state could not come from running it top to
    bottom (``dataflow.check``), `{"findings": [...]}`."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        with _http_errors():
            body = inputs.json_object(self.request.body)
            nb = inputs.notebook(body.get("notebook"))
            found = findings(nb)
        self.finish(json.dumps({"findings": [f.to_json() for f in found]}))


class GenerateHandler(ReviveHandler):
    """`POST generate` with `{prompt, cell_id, notebook, kernel_id?, feedback?, options?}`.

    Streams a `Generation`'s events as newline-delimited JSON (see prompts/generation.py).
    Closing the request cancels the LLM call.
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
        with _http_errors():
            body = inputs.json_object(self.request.body)
            request = GenerateRequest(
                prompt=inputs.required_text(body.get("prompt"), "prompt", self.max_prompt_chars),
                notebook=inputs.notebook(body.get("notebook")),
                cell_id=inputs.optional_text(body.get("cell_id"), "cell_id"),
                kernel_id=inputs.optional_text(body.get("kernel_id"), "kernel_id"),
                feedback=inputs.optional_text(body.get("feedback"), "feedback"),
                options=client_options(body.get("options")),
            )
        self._generation = Generation(
            request, builder=self.builder, generator=self.generator, kernel=self.kernel_query
        )
        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # proxies must not hold the stream back
        events = self._generation.events()
        try:
            async for event in events:
                self.write(json.dumps(event) + "\n")
                await self.flush()
        except StreamClosedError:
            self._generation.cancel()  # the browser went away: stop the upstream call
        finally:
            await events.aclose()
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        generation: Generation | None = getattr(self, "_generation", None)
        if generation is not None:
            generation.cancel()


def routes() -> list[tuple[str, type[ReviveHandler]]]:
    return [
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/context", KernelContextHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/variables", KernelVariablesHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/checkpoint", KernelCheckpointHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/load", KernelLoadHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/notebook", KernelNotebookHandler),
        (r"/jupyter-revive/checkpoints", CheckpointsHandler),
        (r"/jupyter-revive/plan", PlanHandler),
        (r"/jupyter-revive/graph", GraphHandler),
        (r"/jupyter-revive/check", CheckHandler),
        (r"/jupyter-revive/generate", GenerateHandler),
    ]
