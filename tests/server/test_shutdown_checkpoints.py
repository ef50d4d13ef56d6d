"""Checkpoints before a kernel goes away on purpose: a restart or shutdown through the REST API,
and server shutdown, checkpoint what the notebook's kernel changed since its last checkpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_revive.checkpoint.shutdown import unsaved

from .pipeline import CELLS, NOTEBOOK, Session, post


def test_unsaved_names_are_those_changed_after_their_newest_checkpoint() -> None:
    executions = [
        {"seq": 1, "defined": ["df", "tmp"]},
        {"seq": 2, "defined": ["model"], "mutated": ["df"]},
        {"seq": 3, "deleted": ["tmp"]},
        {"seq": 4, "mutated": ["model"]},
    ]
    assert unsaved(executions, {}) == ["df", "model"]
    assert unsaved(executions, {"df": 2, "model": 3}) == ["model"]
    assert unsaved(executions, {"df": 4, "model": 4}) == []


def test_values_loaded_from_an_earlier_process_are_unsaved_until_a_later_checkpoint() -> None:
    executions = [{"seq": 1, "defined": ["x"]}, {"seq": 2, "deleted": ["gone"]}]
    loaded = {"model": 0, "x": 1, "gone": 1, "df": 2}
    # model, df: loaded; x: loaded over its own binding; gone: loaded, then deleted.
    assert unsaved(executions, {}, loaded) == ["df", "model", "x"]
    # A checkpoint taken at the load's position may predate the load: only a later one counts.
    assert unsaved(executions, {"model": 0, "x": 1, "df": 2}, loaded) == ["df", "model", "x"]
    assert unsaved([*executions, {"seq": 3}], {"model": 3, "x": 3, "df": 3}, loaded) == []


def serve(run: Any, jp_fetch: Any, session: Session, notebook: str | None = NOTEBOOK) -> None:
    answer = run(
        jp_fetch(
            "jupyter-revive",
            "kernels",
            session.kernel_id,
            "notebook",
            method="PUT",
            body=json.dumps({"notebook": notebook}),
        )
    )
    assert answer.code == 204


def listed(run: Any, jp_fetch: Any) -> list[dict[str, Any]]:
    answer = run(jp_fetch("jupyter-revive", "checkpoints", params={"notebook": NOTEBOOK}))
    return list(json.loads(answer.body)["checkpoints"])


def context(run: Any, jp_fetch: Any, session: Session) -> str:
    answer = run(jp_fetch("jupyter-revive", "kernels", session.kernel_id, "context"))
    return str(json.loads(answer.body)["context"])


def restart(run: Any, jp_fetch: Any, session: Session) -> None:
    """Restart through the REST API, as JupyterLab does, and wait for the new process.

    jupyter_server answers the POST once the process is launched, not once it answers: the
    frontend asks again while a query answers 503 (verdict.ts); a test waits for it instead."""
    run(jp_fetch("api", "kernels", session.kernel_id, "restart", method="POST", body=""))
    run(session.kc.wait_for_ready(timeout=30))


def test_a_restart_checkpoints_what_changed_since_the_last_checkpoint(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    serve(run, jp_fetch, session)
    before = context(run, jp_fetch, session)
    kernel = f"kernels/{session.kernel_id}"
    run(post(jp_fetch, f"{kernel}/checkpoint", {"notebook": NOTEBOOK, "names": ["model"]}))

    restart(run, jp_fetch, session)
    assert context(run, jp_fetch, session) != before
    newest, older = listed(run, jp_fetch)
    assert newest["context"] == before and newest["position"] == len(CELLS)
    assert newest["names"] == ["cleaned", "df", "same"]  # the model was saved already
    assert older["names"] == ["model"]

    # The plan may use either; it loads the model rather than train it again (the cheap
    # cells it weighs by their measured times).
    body = {"notebook": session.notebook(), "kernel_id": session.kernel_id}
    plan = json.loads(run(post(jp_fetch, "plan", body)).body)
    assert "model" in plan["load"]["names"] and "c3" not in [c["id"] for c in plan["cells"]]

    # A restart of the fresh kernel has nothing new to save.
    restart(run, jp_fetch, session)
    assert len(listed(run, jp_fetch)) == 2


def test_a_restart_after_a_load_checkpoints_the_loaded_values_again(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    """A restore that loaded the model leaves it only in the old process's checkpoint, which
    the next restore cannot use: the next restart must save it for the new process."""
    serve(run, jp_fetch, session)
    kernel = f"kernels/{session.kernel_id}"
    taken = json.loads(run(post(jp_fetch, f"{kernel}/checkpoint", {"notebook": NOTEBOOK})).body)
    run(session.restart())
    body = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"], "names": ["model"]}
    assert json.loads(run(post(jp_fetch, f"{kernel}/load", body)).body)["loaded"] == ["model"]
    loaded_in = context(run, jp_fetch, session)

    restart(run, jp_fetch, session)
    newest = listed(run, jp_fetch)[0]
    assert newest["context"] == loaded_in and newest["names"] == ["model"]


def test_a_shutdown_checkpoints_a_served_kernel_and_leaves_others_alone(
    run: Any, jp_fetch: Any, jp_serverapp: Any
) -> None:
    served, other = Session(jp_serverapp), Session(jp_serverapp)
    run(served.start())
    run(other.start())
    serve(run, jp_fetch, served)
    serve(run, jp_fetch, other)
    serve(run, jp_fetch, other, None)  # the notebook no longer wants it
    for s in (served, other):
        s.kc.stop_channels()
        run(jp_fetch("api", "kernels", s.kernel_id, method="DELETE"))
    (entry,) = listed(run, jp_fetch)
    assert entry["names"] == ["cleaned", "df", "model", "same"]


def test_server_shutdown_checkpoints_every_served_kernel(
    run: Any, jp_fetch: Any, jp_serverapp: Any
) -> None:
    session = Session(jp_serverapp)
    run(session.start())
    serve(run, jp_fetch, session)
    app = jp_serverapp.extension_manager.extension_points["jupyter_revive"].app
    run(app.stop_extension())
    (entry,) = listed(run, jp_fetch)
    assert entry["names"] == ["cleaned", "df", "model", "same"]
    # What jupyter_server does next, shutting the kernels down, does not ask them again.
    session.kc.stop_channels()
    run(jp_serverapp.kernel_manager.shutdown_kernel(session.kernel_id))
    assert len(listed(run, jp_fetch)) == 1


def test_a_busy_kernel_is_restarted_without_a_checkpoint(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    serve(run, jp_fetch, session)
    session.kc.execute("import time; time.sleep(30)", silent=False)
    restart(run, jp_fetch, session)
    assert listed(run, jp_fetch) == []


def test_registering_an_unknown_kernel_is_a_404(run: Any, jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        run(
            jp_fetch(
                "jupyter-revive",
                "kernels",
                "no-such-kernel",
                "notebook",
                method="PUT",
                body=json.dumps({"notebook": NOTEBOOK}),
            )
        )
    assert caught.value.code == 404
