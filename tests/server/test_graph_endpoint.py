"""`POST graph` and `POST check` through a real server: node states follow the kernel (live,
then lost with what a restore does), and the check's findings; both need authentication."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .helpers import notebook
from .pipeline import Session, error, post


def graph(run: Any, jp_fetch: Any, session: Session) -> dict[str, Any]:
    body = {"notebook": session.notebook(), "kernel_id": session.kernel_id}
    return dict(json.loads(run(post(jp_fetch, "graph", body)).body))


def test_the_graph_follows_the_kernel_from_live_to_lost(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    live = graph(run, jp_fetch, session)
    assert live["state"] == "live" and {n["state"] for n in live["nodes"]} == {"live"}
    assert {"source": "e0", "target": "e1", "kind": "name", "names": ["df"]} in live["edges"]

    run(session.restart())
    lost = graph(run, jp_fetch, session)
    assert lost["state"] == "lost"
    assert [n["state"] for n in lost["nodes"]] == ["rerun"] * len(lost["nodes"])


def test_check_answers_the_findings(run: Any, jp_fetch: Any) -> None:
    nb = notebook(["y = z", "z = 2"])  # cells c1, c2; c2 ran first
    nb.metadata["revive"] = {"context": "ctx", "history": [["c2", None], ["c1", None]]}
    answer = json.loads(run(post(jp_fetch, "check", {"notebook": nb})).body)
    assert answer["findings"] == [
        {"kind": "order", "cell": 0, "id": "c1", "message": "used z, made by cell 2 below it"}
    ]
    code, message = error(run, post(jp_fetch, "check", {"notebook": {"cells": 3}}))
    assert code == 400 and "notebook" in message.lower()


def test_graph_and_check_need_authentication(run: Any, jp_fetch: Any) -> None:
    for path in ("graph", "check"):
        with pytest.raises(HTTPClientError) as caught:
            run(post(jp_fetch, path, {"notebook": {}}, headers={"Authorization": ""}))
        assert caught.value.code in (401, 403)
