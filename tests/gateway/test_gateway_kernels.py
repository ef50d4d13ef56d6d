"""Remote kernels: the test server in gateway mode, its kernels in a real Kernel Gateway whose
environment has no jupyter-revive. Tracking, context, variables, restarts, checkpoints on the
kernel's host and the prompt guard all go through the kernels' channels only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_revive.checkpoint.store import MANIFEST_FILE
from tests.gateway_host import KernelGateway
from tests.server.helpers import ndjson, notebook, stamp

from .conftest import Frontend

NOTEBOOK = "nb-gateway-0001"


async def _start(jp_fetch: Any) -> str:
    """A kernel started through the server's REST API, as JupyterLab starts one."""
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    return str(json.loads(response.body)["id"])


async def _get(jp_fetch: Any, *path: str, **kw: Any) -> dict[str, Any]:
    return dict(json.loads((await jp_fetch("jupyter-revive", *path, **kw)).body))


async def _post(jp_fetch: Any, path: str, body: Any) -> dict[str, Any]:
    response = await jp_fetch(
        "jupyter-revive", *path.split("/"), method="POST", body=json.dumps(body)
    )
    return dict(json.loads(response.body))


def test_first_cell_is_recorded_in_a_kernel_without_jupyter_revive(
    run: Any, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, kernel_gateway: KernelGateway
) -> None:
    async def check() -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
        kernel_id = await _start(jp_fetch)
        frontend = await Frontend.connect(jp_ws_fetch, kernel_id)
        # Straight away, as a frontend runs the first cell as soon as the kernel is there.
        first = await frontend.execute("x = 41 + 1", "c1")
        probe = await frontend.execute(
            "import importlib.util, os\n"
            "assert importlib.util.find_spec('jupyter_revive') is None\n"
            "assert os.environ.get('KERNEL_GATEWAY') == '1'",
            "c2",
        )
        context = await _get(jp_fetch, "kernels", kernel_id, "context")
        frontend.close()
        return kernel_id, first, probe, context

    kernel_id, first, probe, context = run(check())
    assert type(jp_serverapp.kernel_manager).__name__ == "GatewayMappingKernelManager"
    assert kernel_id in {k["id"] for k in kernel_gateway.kernels()}  # the gateway runs it
    assert probe["content"]["status"] == "ok", probe["content"]  # no jupyter-revive there
    record = first["metadata"]["revive"]
    assert record["cell"] == "c1" and record["seq"] == 1 and record["defined"] == ["x"]
    assert context["context"] == record["context"]
    assert [e["cell"] for e in context["executions"]] == ["c1", "c2"]


def test_variables_and_a_restart_through_the_gateway(
    run: Any, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    async def check() -> tuple[dict[str, Any], ...]:
        kernel_id = await _start(jp_fetch)
        frontend = await Frontend.connect(jp_ws_fetch, kernel_id)
        await frontend.execute("rows = list(range(5))", "c1")
        variables = await _get(jp_fetch, "kernels", kernel_id, "variables")
        before = await _get(jp_fetch, "kernels", kernel_id, "context")
        await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
        after = await _get(jp_fetch, "kernels", kernel_id, "context")
        again = await frontend.execute("y = 1", "c2")  # the first cell of the new process
        frontend.close()
        return variables, before, after, again

    variables, before, after, again = run(check())
    (rows,) = variables["variables"]
    assert rows["name"] == "rows" and rows["type"] == "list" and rows["len"] == 5
    assert after["context"] != before["context"] and after["executions"] == []
    record = again["metadata"]["revive"]
    assert record["context"] == after["context"] and record["seq"] == 1


def test_checkpoint_files_stay_on_the_kernels_host_signed_by_the_server(
    run: Any,
    jp_fetch: Any,
    jp_ws_fetch: Any,
    jp_serverapp: Any,
    kernel_gateway: KernelGateway,
) -> None:
    store = jp_serverapp.web_app.settings["revive_checkpoints"]

    async def take() -> tuple[str, Frontend, dict[str, Any], dict[str, Any]]:
        kernel_id = await _start(jp_fetch)
        frontend = await Frontend.connect(jp_ws_fetch, kernel_id)
        await frontend.execute("model = {'weights': [0.5] * 1000}\nsame = model", "c1")
        taken = await _post(jp_fetch, f"kernels/{kernel_id}/checkpoint", {"notebook": NOTEBOOK})
        listed = await _get(jp_fetch, "checkpoints", params={"notebook": NOTEBOOK})
        await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
        return kernel_id, frontend, taken, listed

    kernel_id, frontend, taken, listed = run(take())
    assert taken["saved"] == ["model", "same"]
    (entry,) = listed["checkpoints"]
    where = Path(entry["where"])
    # The data is in the kernel's own folder on its host (the gateway's data dir) ...
    assert where.is_relative_to(kernel_gateway.data_dir) and any(where.iterdir())
    assert MANIFEST_FILE not in {p.name for p in where.iterdir()}
    # ... and the signed manifest with the server, alone in its folder.
    server_folder = store.folder(NOTEBOOK, taken["checkpoint"])
    assert [p.name for p in server_folder.iterdir()] == [MANIFEST_FILE]

    load = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"]}

    async def load_and_check() -> tuple[dict[str, Any], dict[str, Any]]:
        loaded = await _post(jp_fetch, f"kernels/{kernel_id}/load", load)
        check = await frontend.execute("assert same is model and model['weights'][0] == 0.5")
        return loaded, check

    loaded, check = run(load_and_check())
    assert sorted(loaded["loaded"]) == ["model", "same"] and loaded["refused"] == []
    assert check["content"]["status"] == "ok", check["content"]

    # A file changed on the kernel's host is refused there, before anything is unpickled.
    blob = next(p for p in where.iterdir() if p.is_file())
    data = bytearray(blob.read_bytes())
    data[-2] ^= 1
    blob.write_bytes(bytes(data))
    refused = run(_post(jp_fetch, f"kernels/{kernel_id}/load", load))
    assert refused["loaded"] == [] and "SHA-256" in refused["refused"][0]["reason"]

    # A manifest changed with the server does not verify: nothing is sent to the kernel.
    manifest_path = server_folder / MANIFEST_FILE
    signed = json.loads(manifest_path.read_text())
    signed["manifest"]["where"] = str(kernel_gateway.home)
    manifest_path.write_text(json.dumps(signed))
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, f"kernels/{kernel_id}/load", load))
    assert caught.value.code == 409
    frontend.close()


def test_removed_checkpoints_are_removed_on_the_kernels_host(
    run: Any, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    store = jp_serverapp.web_app.settings["revive_checkpoints"]

    async def two() -> tuple[dict[str, Any], dict[str, Any]]:
        kernel_id = await _start(jp_fetch)
        frontend = await Frontend.connect(jp_ws_fetch, kernel_id)
        await frontend.execute("blob = bytes(300_000)", "c1")
        path = f"kernels/{kernel_id}/checkpoint"
        first = await _post(jp_fetch, path, {"notebook": NOTEBOOK})
        # A cap that holds one checkpoint: the first goes, here and on the kernel's host.
        store.max_notebook_bytes = 400_000
        second = await _post(jp_fetch, path, {"notebook": NOTEBOOK})
        frontend.close()
        return first, second

    first, second = run(two())
    listed = run(_get(jp_fetch, "checkpoints", params={"notebook": NOTEBOOK}))["checkpoints"]
    assert [c["checkpoint"] for c in listed] == [second["checkpoint"]]
    where = Path(listed[0]["where"])
    assert where.is_dir() and not (where.parent / first["checkpoint"]).exists()


def test_prompt_guard_sees_lost_names_of_a_restarted_gateway_kernel(
    run: Any, jp_fetch: Any, jp_ws_fetch: Any, fake_anthropic: Any
) -> None:
    fake_anthropic.reply_text("```python\nplot(predictions)\n```")

    async def check() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        kernel_id = await _start(jp_fetch)
        frontend = await Frontend.connect(jp_ws_fetch, kernel_id)
        nb = notebook(
            [
                "df = [1, 2]",
                "predictions = [x / 2 for x in df]",
                "def plot(values):\n    return len(values)",
            ],
            prompt="plot",
        )
        stamp(nb, [await frontend.execute(c.source, c.id) for c in nb.cells[:3]])
        body = {"prompt": "plot", "cell_id": "prompt", "notebook": nb, "kernel_id": kernel_id}
        live = ndjson(
            (
                await jp_fetch("jupyter-revive", "generate", method="POST", body=json.dumps(body))
            ).body
        )
        await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
        fake_anthropic.reply_text("```python\nplot(predictions)\n```")
        lost = ndjson(
            (
                await jp_fetch("jupyter-revive", "generate", method="POST", body=json.dumps(body))
            ).body
        )
        frontend.close()
        return live, lost[-1]

    live, done = run(check())
    assert "predictions" in live[0]["variables"]  # the summary of the live remote variables
    assert live[-1]["type"] == "done" and live[-1]["missing"] == []
    assert done["type"] == "done"
    assert sorted(done["missing"]) == ["plot", "predictions"]
    assert [c["id"] for c in done["plan"]["cells"]] == ["c1", "c2", "c3"]


def test_queries_recover_when_the_gateway_drops_the_websocket(
    run: Any, jp_fetch: Any, jp_serverapp: Any
) -> None:
    query = jp_serverapp.web_app.settings["revive_kernel_query"]

    async def check() -> tuple[str, str]:
        kernel_id = await _start(jp_fetch)
        before = await _get(jp_fetch, "kernels", kernel_id, "context")
        # The connection goes away (a proxy timeout, the gateway restarting its handler).
        query._channels[kernel_id].client._ws.close()
        after = await _get(jp_fetch, "kernels", kernel_id, "context")
        return before["context"], after["context"]

    before, after = run(check())
    assert before == after  # the same kernel process, asked over a new connection
