"""`POST /jupyter-revive/plan` through a real server, with and without a live kernel."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_revive.contract import code_sha

from .helpers import error_body, execute, notebook, stamp

PIPELINE = [
    "df = [1, 2, 3]",
    "cleaned_df = [x * 2 for x in df]",
    "print(cleaned_df)",
    "model = sum(cleaned_df)",
]


def _post(jp_fetch: Any, body: Any, **kw: Any) -> Any:
    return jp_fetch("jupyter-revive", "plan", method="POST", body=json.dumps(body), **kw)


def test_plan_of_a_recorded_notebook_after_restart(
    run: Any, jp_fetch: Any, jp_serverapp: Any
) -> None:
    async def check() -> None:
        km = jp_serverapp.kernel_manager
        kernel_id = await km.start_kernel(kernel_name="python3")
        kc = km.get_kernel(kernel_id).client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=30)
        nb = notebook(PIPELINE)
        replies = [await execute(kc, c.source, c.id) for c in nb.cells]
        stamp(nb, replies)
        nbformat.validate(nb)

        # Same kernel: everything is live, nothing to plan.
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        assert json.loads(response.body)["cells"] == []

        await km.restart_kernel(kernel_id)
        await kc.wait_for_ready(timeout=30)
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        plan = json.loads(response.body)
        assert [c["id"] for c in plan["cells"]] == ["c1", "c2", "c4"]  # not the print cell
        assert set(plan["names"]) == {"df", "cleaned_df", "model"}
        assert all(c["reason"] for c in plan["cells"])

        # A kernel holding df and cleaned_df needs only the model cell.
        await execute(kc, "df = [1, 2, 3]; cleaned_df = [2, 4, 6]", "elsewhere")
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        assert [c["id"] for c in json.loads(response.body)["cells"]] == ["c4"]
        kc.stop_channels()

    run(check())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"notebook": "not a notebook"}, "notebook must be"),
        ({"notebook": {"cells": "nope", "nbformat": 4}}, "Invalid notebook"),
        ({"notebook": notebook(["x = 1"]), "names": "x"}, "names must be"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message(
    run: Any, jp_fetch: Any, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, body))
    assert caught.value.code == 400
    assert message in error_body(caught.value)["message"]


def test_unknown_kernel_is_a_404(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, {"notebook": notebook(["x = 1"]), "kernel_id": "no-such-kernel"}))
    assert caught.value.code == 404


def test_plan_needs_authentication(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, {"notebook": notebook(["x = 1"])}, headers={"Authorization": ""}))
    assert caught.value.code in (401, 403)


def test_a_notebook_nbformat_rejects_is_a_json_400_not_a_500(run: Any, jp_fetch: Any) -> None:
    nb = notebook(["x = 1"])
    del nb.cells[0]["outputs"]  # InvalidNotebook from the reader, mapped once to 400
    with pytest.raises(HTTPClientError) as caught:
        run(_post(jp_fetch, {"notebook": nb}))
    assert caught.value.code == 400
    response = caught.value.response
    assert response is not None
    assert response.headers["Content-Type"].startswith("application/json")
    body = error_body(caught.value)
    assert body["message"].startswith("Invalid notebook:")
    assert "outputs" in body["message"]


def test_a_kernel_without_a_tracker_plans_as_if_it_held_nothing(
    run: Any, jp_fetch: Any, jp_serverapp: Any, jp_kernel_dir: str
) -> None:
    # An ipykernel that says it runs R: the query refuses it (NoTracker), the plan goes on.
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fake R",
        "language": "R",
    }
    (Path(jp_kernel_dir) / "fake-r").mkdir(parents=True)
    (Path(jp_kernel_dir) / "fake-r" / "kernel.json").write_text(json.dumps(spec))
    nb = notebook(PIPELINE)
    for count, cell in enumerate(nb.cells, 1):
        cell.execution_count = count

    async def check() -> dict[str, Any]:
        kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="fake-r")
        response = await _post(jp_fetch, {"notebook": nb, "kernel_id": kernel_id})
        return dict(json.loads(response.body))

    plan = run(check())
    assert [c["id"] for c in plan["cells"]] == ["c1", "c2", "c4"]


def test_a_lone_surrogate_in_a_cell_with_history_plans(run: Any, jp_fetch: Any) -> None:
    nb = notebook(["s = '\ud800'", "t = s * 2"])
    nb.metadata["revive"] = {"history": [[c.id, code_sha(c.source)] for c in nb.cells]}
    response = run(_post(jp_fetch, {"notebook": nb}))
    assert response.code == 200
    plan = json.loads(response.body)
    assert [c["id"] for c in plan["cells"]] == [nb.cells[1].id]
    assert [(w["kind"], w["cell"]) for w in plan["warnings"]] == [("unparsable", 0)]
