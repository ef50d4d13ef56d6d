"""Where a remote kernel keeps its checkpoints: its own data dir, ids only, prune stays inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import places


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(places.ROOT_ENV, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_checkpoint_goes_under_the_hosts_jupyter_data_dir(data_dir: Path) -> None:
    folder = places.folder("nb-1", "c-1")
    assert Path(folder) == data_dir / "revive" / "checkpoints" / "nb-1" / "c-1"


def test_the_root_can_be_chosen_on_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(places.ROOT_ENV, str(tmp_path / "elsewhere"))
    assert Path(places.folder("nb-1", "c-1")) == tmp_path / "elsewhere" / "nb-1" / "c-1"


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", "", "/abs", ".hidden", "x" * 200])
def test_ids_cannot_name_other_paths(data_dir: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        places.folder("nb-1", bad)
    with pytest.raises(ValueError):
        places.prune(bad, [])


def test_prune_removes_only_this_notebooks_folders_not_kept(data_dir: Path) -> None:
    for checkpoint in ("keep", "gone"):
        Path(places.folder("nb-1", checkpoint)).mkdir(parents=True)
    other = Path(places.folder("nb-2", "gone"))
    other.mkdir(parents=True)
    outside = data_dir / "precious"
    outside.mkdir()
    (Path(places.root()) / "nb-1" / "link").symlink_to(outside)

    assert places.prune("nb-1", ["keep"]) == ["gone"]
    assert Path(places.folder("nb-1", "keep")).is_dir()
    assert other.is_dir() and outside.is_dir()
    assert places.prune("nb-3", []) == []
