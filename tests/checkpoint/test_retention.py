"""Checkpoint space: size caps with least-recently-used eviction, and `jupyter revive
checkpoints list|prune`."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_revive.checkpoint import ReviveCheckpoints
from jupyter_revive.checkpoint.retention import Caps, Stored, to_evict
from jupyter_revive.cli import main
from jupyter_revive.kernel_manager.jupyter_revive_tracker.checkpoint import save


def stored(notebook: str, checkpoint: str, size: int, used: float, **kw: Any) -> Stored:
    return Stored(notebook, checkpoint, Path("/x") / notebook / checkpoint, size, used, **kw)


def test_the_least_recently_used_go_first_until_each_notebook_fits() -> None:
    a1, a2, a3 = (stored("a", f"a{i}", 40, used=i) for i in (1, 2, 3))
    b1 = stored("b", "b1", 40, used=0)
    out = to_evict([a3, a1, b1, a2], Caps(per_notebook=100), now=10)
    assert out == [a1]  # b alone fits; a's oldest goes


def test_the_total_cap_takes_the_oldest_of_any_notebook_but_never_the_one_kept() -> None:
    a1 = stored("a", "a1", 50, used=1)
    b1 = stored("b", "b1", 50, used=2)
    b2 = stored("b", "b2", 50, used=3)
    assert to_evict([a1, b1, b2], Caps(total=100), now=10) == [a1]
    assert to_evict([a1, b1, b2], Caps(total=60), keep=frozenset({"a1"}), now=10) == [b1, b2]


def test_unusable_folders_go_once_they_cannot_be_a_checkpoint_still_being_written() -> None:
    fresh = stored("a", "a1", 10, used=95, problem="there is no checkpoint a1")
    old = stored("a", "a2", 10, used=0, problem="signature does not match")
    assert to_evict([fresh, old], Caps(unfinished_grace_s=60), now=100) == [old]


def store_at(tmp_path: Path, **caps: int) -> ReviveCheckpoints:
    return ReviveCheckpoints(
        root=str(tmp_path / "checkpoints"), key_dir=str(tmp_path / "key"), **caps
    )


def take(store: ReviveCheckpoints, notebook: str, ns: dict[str, Any], used: float) -> str:
    """A real checkpoint of ``ns`` (written as the kernel writes it, signed by the store)."""
    checkpoint, folder = store.new(notebook)
    written = save(ns, list(ns), str(folder))
    written.update(context="ctx", seq=1, executions=[])
    store.record(notebook, checkpoint, written)
    os.utime(folder / "manifest.json", (used, used))
    return checkpoint


def test_writing_past_the_notebook_cap_evicts_its_least_recently_used(tmp_path: Path) -> None:
    store = store_at(tmp_path, max_notebook_bytes=2_500_000)
    big = b"x" * 1_000_000
    first = take(store, "nb", {"a": big}, used=1_000)
    second = take(store, "nb", {"b": big}, used=2_000)
    store.open("nb", first)  # verifies
    store.folder("nb", first).joinpath("manifest.json").touch()  # first is used again: newest
    third = take(store, "nb", {"c": big}, used=3_000)
    assert {s.checkpoint for s in store.stored("nb")} == {first, third}
    assert not store.folder("nb", second).exists()


def test_prune_frees_a_notebooks_checkpoints_and_keeps_the_others(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    take(store, "nb-a", {"a": [1]}, used=1_000)
    keep = take(store, "nb-b", {"b": [2]}, used=1_000)
    half = store.folder("nb-b", "0123abcd")  # a kernel died while writing: no manifest
    half.mkdir(parents=True)
    (half / "g0.pkl").write_bytes(b"partial")
    os.utime(half / "g0.pkl", (0, 0))
    os.utime(half, (0, 0))
    dry = store.prune("nb-a", everything=True, dry_run=True)
    assert {s.notebook for s in dry.removed} == {"nb-a", "nb-b"}
    assert (Path(store.root) / "nb-a").exists()  # dry run removes nothing
    freed = store.prune("nb-a", everything=True)
    assert sorted(s.checkpoint for s in freed.removed) == sorted(
        [s.checkpoint for s in dry.removed]
    )
    assert not (Path(store.root) / "nb-a").exists() and not half.exists()
    assert [s.checkpoint for s in store.stored()] == [keep]


def test_the_cli_lists_and_prunes_by_notebook_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    store = ReviveCheckpoints(root=str(tmp_path / "checkpoints"))  # the key where the CLI looks
    checkpoint = take(store, "nb-a", {"model": [1, 2]}, used=1_000)
    nb = nbformat.v4.new_notebook()
    nb.metadata["revive"] = {"notebook": "nb-a"}
    path = tmp_path / "analysis.ipynb"
    nbformat.write(nb, str(path))
    root = ["--root", store.root]

    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["checkpoints", "list", str(path), *root]) == 0
    assert f"nb-a  {checkpoint}" in out.getvalue() and "model" in out.getvalue()

    out.truncate(0)
    out.seek(0)
    assert main(["checkpoints", "list", "--json", *root]) == 0
    listed = json.loads(out.getvalue())
    assert [c["names"] for c in listed["checkpoints"]] == [["model"]]

    out.truncate(0)
    out.seek(0)
    assert main(["checkpoints", "prune", str(path), "--older-than", "1", *root]) == 0
    assert out.getvalue().startswith("removed 1 checkpoint(s)")
    assert store.stored() == []


def test_the_cli_reads_the_servers_checkpoint_root_from_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    root = tmp_path / "configured"
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ReviveCheckpoints": {"root": str(root)}})
    )
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config))
    monkeypatch.chdir(tmp_path)
    assert main(["checkpoints", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"{root}: 0 checkpoint(s)")


def test_a_notebook_without_identity_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(path))
    assert main(["checkpoints", "list", str(path), "--root", str(tmp_path)]) == 2
    assert "records no notebook identity" in capsys.readouterr().err
