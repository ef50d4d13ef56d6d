"""Thin REST handlers: authenticate, authorize, call a manager, translate its errors once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nbformat
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .dataflow.planner import plan_notebook
from .kernel_manager.errors import KernelBusy, KernelDead, KernelNotFound, NoTracker
from .kernel_manager.query import KernelQuery

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
    except KernelBusy as e:
        raise web.HTTPError(503, str(e)) from e
    except KernelDead as e:
        raise web.HTTPError(409, str(e)) from e


class ReviveHandler(ExtensionHandlerMixin, APIHandler):
    @property
    def kernel_query(self) -> KernelQuery:
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
                    answer = await self.kernel_query.variables(kernel_id)
                live = {v["name"] for v in answer.get("variables", [])}
            except web.HTTPError as e:
                if e.status_code == 404:
                    raise
                # A busy kernel or one without a tracker: plan as if it held nothing.
                self.log.info("jupyter-revive: planning without live names: %s", e.log_message)
        plan = plan_notebook(nb, names=names, live_names=live)
        self.finish(json.dumps(plan.to_json()))


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
    ]
