"""The seed pipeline run in a kernel of the test server, as JupyterLab would run it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .helpers import error_body, execute, notebook, stamp

NOTEBOOK = "nb-0001"
CELLS = [
    ("c1", "import pandas as pd\ndf = pd.DataFrame({'x': range(100_000)})"),
    ("c2", "cleaned = df[df.x % 3 == 0]\nsame = cleaned"),
    # the expensive cell: "training" takes 0.8 s
    ("c3", "__import__('time').sleep(0.8)\nmodel = {'weights': [0.5] * 1000}"),
    ("c4", "stream = open(__import__('os').devnull)"),
]
CHECK = "assert same is cleaned and len(cleaned) == 33_334 and model['weights'][0] == 0.5"


def post(jp_fetch: Any, path: str, body: Any, **kw: Any) -> Any:
    return jp_fetch("jupyter-revive", *path.split("/"), method="POST", body=json.dumps(body), **kw)


def error(run: Any, call: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as caught:
        run(call)
    return caught.value.code, error_body(caught.value)["message"]


class Session:
    """A kernel of the test server with the pipeline run in it, as JupyterLab would."""

    def __init__(self, jp_serverapp: Any) -> None:
        self.km = jp_serverapp.kernel_manager
        self.store = jp_serverapp.web_app.settings["revive_checkpoints"]
        self.kernel_id = ""
        self.kc: Any = None
        self.replies: list[dict[str, Any]] = []

    async def start(self) -> None:
        self.kernel_id = await self.km.start_kernel(kernel_name="python3")
        self.kc = self.km.get_kernel(self.kernel_id).client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=30)
        for cell_id, source in CELLS:
            reply = await execute(self.kc, source, cell_id)
            assert reply["content"]["status"] == "ok", reply["content"]
            self.replies.append(reply)

    def notebook(self) -> Any:
        """The notebook as JupyterLab would have saved it, with its checkpoint identity."""
        nb = notebook([source for _, source in CELLS])
        stamp(nb, self.replies)
        nb.metadata["revive"]["notebook"] = NOTEBOOK
        return nb

    async def restart(self) -> None:
        await self.km.restart_kernel(self.kernel_id)
        await self.kc.wait_for_ready(timeout=30)

    async def holds_the_values(self) -> bool:
        reply = await execute(self.kc, CHECK, "check")
        return bool(reply["content"]["status"] == "ok")

    async def stop(self) -> None:
        self.kc.stop_channels()
        await self.km.shutdown_kernel(self.kernel_id, now=True)
