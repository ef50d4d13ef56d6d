"""The server's checkpoint signing: the per-user key and signed manifests, and the chain from
the kernel's hashes to a load that a forged manifest never reaches."""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from jupyter_revive.checkpoint import (
    KEY_FILE,
    CheckpointRefused,
    KeyUnusable,
    sign,
    signing_key,
    verify,
)
from jupyter_revive.kernel_manager.jupyter_revive_tracker.checkpoint import load, save


def test_the_key_is_made_once_readable_only_by_the_user(tmp_path: Path) -> None:
    key = signing_key(tmp_path / "revive")
    assert len(key) == 32
    assert stat.S_IMODE((tmp_path / "revive" / KEY_FILE).stat().st_mode) == 0o600
    assert signing_key(tmp_path / "revive") == key
    assert [p.name for p in (tmp_path / "revive").iterdir()] == [KEY_FILE]  # no temp left


def test_servers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(signing_key(tmp_path))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: (p.write_text("ab" * 32), p.chmod(0o644)), "readable or writable by others"),
        (lambda p: (p.write_text("not hex"), p.chmod(0o600)), "32-byte hex key"),
        (lambda p: (p.write_text("ab" * 8), p.chmod(0o600)), "32-byte hex key"),
        (lambda p: os.symlink(p.parent / "elsewhere", p), "not a regular file"),
    ],
)
def test_a_key_file_that_cannot_be_trusted_is_refused(
    tmp_path: Path, prepare: Any, message: str
) -> None:
    (tmp_path / "elsewhere").write_text("ab" * 32)
    prepare(tmp_path / KEY_FILE)
    with pytest.raises(KeyUnusable, match=message):
        signing_key(tmp_path)


MANIFEST = {
    "notebook": "nb-1",
    "checkpoint": "c1",
    "groups": [{"names": ["df"], "blobs": [{"file": "g0.pkl", "sha256": "00" * 32, "bytes": 9}]}],
}


def test_a_signed_manifest_verifies_with_its_key_and_notebook() -> None:
    key = os.urandom(32)
    assert verify(sign(MANIFEST, key), key, "nb-1")["groups"] == MANIFEST["groups"]


def changed_hash(signed: dict[str, Any]) -> None:
    signed["manifest"]["groups"][0]["blobs"][0]["sha256"] = "11" * 32


def added_name(signed: dict[str, Any]) -> None:
    signed["manifest"]["groups"][0]["names"].append("model")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (changed_hash, "signature does not match"),
        (added_name, "signature does not match"),
        (lambda s: s.update(signature="0" * 64), "signature does not match"),
        (lambda s: s.pop("signature"), "signature does not match"),
        (lambda s: s.update(manifest=[1]), "malformed"),
        (lambda s: s["manifest"].update(bad=float("nan")), "malformed"),
    ],
)
def test_a_changed_manifest_is_refused(tamper: Any, message: str) -> None:
    key = os.urandom(32)
    signed = sign(copy.deepcopy(MANIFEST), key)
    tamper(signed)
    with pytest.raises(CheckpointRefused, match=message):
        verify(signed, key, "nb-1")


def test_another_users_key_or_another_notebook_is_refused() -> None:
    key = os.urandom(32)
    with pytest.raises(CheckpointRefused, match="another key"):
        verify(sign(MANIFEST, os.urandom(32)), key, "nb-1")
    with pytest.raises(CheckpointRefused, match="another notebook"):
        verify(sign(MANIFEST, key), key, "nb-2")


class Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (exec, (f"open({self.path!r}, 'w').close()",))


def test_a_forged_manifest_pointing_at_a_planted_file_never_reaches_the_kernel(
    tmp_path: Path,
) -> None:
    """The whole chain: the kernel's hashes are signed; a manifest rewritten to match a planted
    file fails verification, so the loader never gets hashes that would accept it."""
    key = signing_key(tmp_path / "data")
    folder = tmp_path / "ckpt"
    written = save({"model": {"w": [1, 2, 3]}}, ["model"], str(folder))
    signed = sign({"notebook": "nb-1", "groups": written["groups"]}, key)
    mark = tmp_path / "mark"
    planted = pickle.dumps({"model": Evil(str(mark))})
    (folder / "g0.pkl").write_bytes(planted)
    forged = copy.deepcopy(signed)
    forged["manifest"]["groups"][0]["blobs"][0].update(
        sha256=hashlib.sha256(planted).hexdigest(), bytes=len(planted)
    )
    with pytest.raises(CheckpointRefused):
        verify(forged, key, "nb-1")
    # The honest manifest verifies, and its hashes make the loader refuse the planted file.
    manifest = verify(signed, key, "nb-1")
    ns: dict[str, Any] = {}
    answer = load(ns, str(folder), manifest["groups"])
    assert [r["name"] for r in answer["refused"]] == ["model"] and ns == {}
    assert not mark.exists()
