from __future__ import annotations

import json
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tornado.httpclient import HTTPClientError

from tests.stamping import stamp

__all__ = ["execute", "ndjson", "notebook", "stamp"]


def error_body(error: HTTPClientError) -> Any:
    """The JSON body of an endpoint's error answer."""
    assert error.response is not None
    return json.loads(error.response.body)


def notebook(sources: list[str], *, prompt: str | None = None) -> nbformat.NotebookNode:
    cells = [new_code_cell(s) for s in sources]
    for i, cell in enumerate(cells):
        cell.id = f"c{i + 1}"
    if prompt is not None:
        cell = new_markdown_cell(prompt, metadata={"revive": {"prompt": {"id": "p-1"}}})
        cell.id = "prompt"
        cells.append(cell)
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def cell_request(code: str) -> dict[str, Any]:
    """An execute_request's content as JupyterLab sends it for a cell."""
    return {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }


async def execute(kc: AsyncKernelClient, code: str, cell_id: str) -> dict[str, Any]:
    """Run code as JupyterLab does (cellId in the request metadata); return the reply."""
    msg = kc.session.msg("execute_request", cell_request(code))
    msg["metadata"]["cellId"] = cell_id
    kc.shell_channel.send(msg)
    while True:
        reply = await kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply


def ndjson(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]
