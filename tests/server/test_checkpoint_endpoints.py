"""Checkpoint endpoints through a real server and kernel: write, list, load after a restart, and
refuse what was changed or signed with another key, with nothing of it unpickled."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_revive.checkpoint import KEY_FILE

from .pipeline import CELLS, NOTEBOOK, Session, error, post


def test_checkpoint_then_restart_then_load_brings_the_values_back(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    kernel = f"kernels/{session.kernel_id}"
    taken = json.loads(run(post(jp_fetch, f"{kernel}/checkpoint", {"notebook": NOTEBOOK})).body)
    assert taken["saved"] == ["cleaned", "df", "model", "same"]
    assert [s["name"] for s in taken["skipped"]] == ["stream"]
    assert taken["replay"] == ["pd"] and taken["bytes"] > 800_000

    listed = json.loads(
        run(jp_fetch("jupyter-revive", "checkpoints", params={"notebook": NOTEBOOK})).body
    )
    (entry,) = listed["checkpoints"]
    assert entry["checkpoint"] == taken["checkpoint"] and entry["names"] == taken["saved"]
    assert entry["position"] == len(CELLS) and Path(entry["where"]).is_dir()
    key = Path(session.store.key_dir) / KEY_FILE
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert not key.resolve().is_relative_to(Path(session.store.root).resolve())  # not beside data

    run(session.restart())
    assert not run(session.holds_the_values())
    body = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"]}
    loaded = json.loads(run(post(jp_fetch, f"{kernel}/load", body)).body)
    assert sorted(loaded["loaded"]) == taken["saved"] and loaded["refused"] == []
    assert run(session.holds_the_values())


def test_the_plan_after_a_restart_loads_the_checkpoint_and_replays_only_the_rest(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    taken, _ = _take(run, jp_fetch, session)
    run(session.restart())
    body = {"notebook": session.notebook(), "kernel_id": session.kernel_id}
    plan = json.loads(run(post(jp_fetch, "plan", body)).body)
    (step,) = plan["load"]["steps"]
    assert step["checkpoint"] == taken["checkpoint"]
    assert set(plan["load"]["names"]) <= set(taken["saved"]) and "model" in plan["load"]["names"]
    cells = [c["id"] for c in plan["cells"]]
    assert "c3" not in cells  # the model is loaded, not trained again
    # pandas is not pickled and the open file cannot be: their cells run; pandas before the
    # load (the frame's pickle needs it), the open file after it (it came after the model)
    assert "c1" in cells[: step["at"]] and "c4" in cells[step["at"] :]
    assert plan["estimate_s"]["restore"] > 0 and plan["estimate_s"]["rerun_all"] > 0
    assert plan["stale"] is None

    edited = session.notebook()
    edited.cells[1].source = "cleaned = df[df.x % 5 == 0]\nsame = cleaned"
    plan = json.loads(run(post(jp_fetch, "plan", {"notebook": edited})).body)
    assert set(plan["stale"]["names"]) == {"cleaned", "same"}
    assert not {"cleaned", "same"} & set((plan["load"] or {"names": []})["names"])
    anyway = {"notebook": edited, "load_stale": True}
    plan = json.loads(run(post(jp_fetch, "plan", anyway)).body)
    assert {"cleaned", "same"} <= set(plan["load"]["names"])


def _take(run: Any, jp_fetch: Any, session: Session) -> tuple[dict[str, Any], Path]:
    kernel = f"kernels/{session.kernel_id}"
    taken = json.loads(run(post(jp_fetch, f"{kernel}/checkpoint", {"notebook": NOTEBOOK})).body)
    return taken, session.store.folder(NOTEBOOK, taken["checkpoint"])


def test_a_changed_manifest_is_refused_and_nothing_is_loaded(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    taken, folder = _take(run, jp_fetch, session)
    manifest = folder / "manifest.json"
    signed = json.loads(manifest.read_text())
    signed["manifest"]["groups"][0]["blobs"][0]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(signed))
    run(session.restart())
    body = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"]}
    code, message = error(run, post(jp_fetch, f"kernels/{session.kernel_id}/load", body))
    assert code == 409 and "signature does not match" in message
    assert not run(session.holds_the_values())
    listed = json.loads(run(jp_fetch("jupyter-revive", "checkpoints")).body)
    assert listed["checkpoints"] == []  # an unverifiable checkpoint is not offered


def test_a_checkpoint_signed_with_another_key_is_refused(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    taken, _ = _take(run, jp_fetch, session)
    key = Path(session.store.key_dir) / KEY_FILE
    key.write_text(os.urandom(32).hex())  # another user's (or a new) key
    body = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"]}
    code, message = error(run, post(jp_fetch, f"kernels/{session.kernel_id}/load", body))
    assert code == 409 and "another key" in message


def test_a_changed_data_file_refuses_its_group_and_the_others_load(
    run: Any, jp_fetch: Any, session: Session
) -> None:
    taken, folder = _take(run, jp_fetch, session)
    manifest = json.loads((folder / "manifest.json").read_text())["manifest"]
    frame = next(g for g in manifest["groups"] if "df" in g["names"])
    blob = folder / frame["blobs"][-1]["file"]
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    run(session.restart())
    body = {"notebook": NOTEBOOK, "checkpoint": taken["checkpoint"]}
    answer = json.loads(run(post(jp_fetch, f"kernels/{session.kernel_id}/load", body)).body)
    refused = {r["name"]: r["reason"] for r in answer["refused"]}
    assert set(refused) == set(frame["names"]) and all("SHA-256" in r for r in refused.values())
    assert "model" in answer["loaded"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("checkpoint", {"notebook": "../elsewhere"}, "notebook must be an id"),
        ("checkpoint", {"notebook": NOTEBOOK, "names": "df"}, "names must be"),
        ("load", {"notebook": NOTEBOOK, "checkpoint": "a/b"}, "checkpoint must be an id"),
        ("checkpoint", {"notebook": NOTEBOOK, "cap_bytes": -1}, "cap_bytes must be"),
    ],
)
def test_bad_requests_are_400s(
    run: Any, jp_fetch: Any, session: Session, path: str, body: Any, message: str
) -> None:
    code, text = error(run, post(jp_fetch, f"kernels/{session.kernel_id}/{path}", body))
    assert code == 400 and message in text


def test_an_unknown_checkpoint_is_a_409(run: Any, jp_fetch: Any, session: Session) -> None:
    body = {"notebook": NOTEBOOK, "checkpoint": "no-such-checkpoint"}
    code, message = error(run, post(jp_fetch, f"kernels/{session.kernel_id}/load", body))
    assert code == 409 and "no checkpoint" in message


def test_checkpoint_endpoints_need_authentication(run: Any, jp_fetch: Any) -> None:
    for call in (
        post(
            jp_fetch, "kernels/k/checkpoint", {"notebook": NOTEBOOK}, headers={"Authorization": ""}
        ),
        jp_fetch("jupyter-revive", "checkpoints", headers={"Authorization": ""}),
        jp_fetch(
            "jupyter-revive",
            "kernels",
            "k",
            "notebook",
            method="PUT",
            body=json.dumps({"notebook": NOTEBOOK}),
            headers={"Authorization": ""},
        ),
    ):
        with pytest.raises(HTTPClientError) as caught:
            run(call)
        assert caught.value.code in (401, 403)
