"""Thin REST handlers: authenticate, authorize, call a manager, translate its errors once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

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


def routes() -> list[tuple[str, type[ReviveHandler]]]:
    return [
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/context", KernelContextHandler),
        (rf"/jupyter-revive/kernels/{_KERNEL_ID}/variables", KernelVariablesHandler),
    ]
