"""The OS's file events for the notebook's folders (``fsevents``), in-process through real inotify.

The OS does not say which process acted, so this test's own file operations stand for what C code
or a program in a cell does; the kernel-level cases are fidelity notebooks (``sqlite3`` at a
computed path, a program writing a file)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import fsevents

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    assert fsevents.start(str(tmp_path))
    yield tmp_path
    fsevents.stop()


def seen(kind: str | None = None) -> set[tuple[str, str]] | set[str]:
    found, lost = fsevents.events()
    assert not lost
    if kind is None:
        return set(found)
    return {path for k, path in found if k == kind}


def test_a_file_written_read_and_removed(folder: Path) -> None:
    data = folder / "data.bin"
    data.write_bytes(b"abc")
    assert seen("written") == {str(data)}
    assert data.read_bytes() == b"abc"
    assert seen() == {("read", str(data))}
    data.unlink()
    assert seen() == {("removed", str(data))}
    assert seen() == set()  # each event once


def test_a_file_moved_in_and_out(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "x.csv"
    elsewhere.write_text("1")
    moved = folder / "x.csv"
    elsewhere.rename(moved)
    assert seen() == {("written", str(moved))}
    moved.rename(elsewhere)
    assert seen() == {("removed", str(moved))}


def test_a_new_folder_is_watched_and_what_it_holds_is_written(folder: Path) -> None:
    (folder / "out" / "deeper").mkdir(parents=True)
    (folder / "out" / "a.txt").write_text("a")  # before any watch of the new folder
    (folder / "out" / "deeper" / "b.txt").write_text("b")
    assert seen("written") == {
        str(folder / "out" / "a.txt"),
        str(folder / "out" / "deeper" / "b.txt"),
    }
    (folder / "out" / "deeper" / "c.txt").write_text("c")  # through the new watch
    assert seen("written") == {str(folder / "out" / "deeper" / "c.txt")}


def test_notebooks_hidden_files_and_caches_are_left_out(folder: Path) -> None:
    (folder / "analysis.ipynb").write_text("{}")
    (folder / ".~analysis.ipynb").write_text("{}")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    (folder / ".git").mkdir()
    assert seen() == set()
    (folder / "__pycache__" / "more.pyc").write_bytes(b"\0")  # not watched
    assert seen() == set()


def test_trees_are_watched_within_their_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    for i in range(3):
        (tmp_path / f"wide{i}").mkdir()
    monkeypatch.setattr(fsevents, "TREE_FOLDERS", 4)  # the top, a, and two of its siblings
    try:
        assert fsevents.start(str(tmp_path))
        watched = set(fsevents._folders.values())
        assert len(watched) == 4 and str(tmp_path) in watched
        assert str(tmp_path / "a" / "b") not in watched
        fsevents.stop()
        monkeypatch.setattr(fsevents, "TREE_FOLDERS", 32)
        assert fsevents.start(str(tmp_path))
        (tmp_path / "a" / "b" / "x.txt").write_text("x")  # two levels down: watched
        (deep / "y.txt").write_text("y")  # three: not
        assert seen("written") == {str(tmp_path / "a" / "b" / "x.txt")}
    finally:
        fsevents.stop()


def test_another_folder_is_watched_once_named(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("cwd")
    fsevents.watch(str(other))
    fsevents.watch(str(other))  # already watched: nothing more
    assert list(fsevents._folders.values()).count(str(other)) == 1
    (other / "f.txt").write_text("f")
    assert seen("written") == {str(other / "f.txt")}


def test_past_the_events_a_record_parses_the_rest_is_drained_and_said_lost(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsevents, "MAX_EVENTS", 2)
    monkeypatch.setattr(fsevents, "_READ", 64)  # a few events per read
    for i in range(20):
        (folder / f"f{i}.txt").write_text("x")
    found, lost = fsevents.events()
    assert lost and 0 < len(found) < 20
    assert fsevents.events() == ([], False)


def test_no_folder_or_a_stopped_watch_reports_nothing(tmp_path: Path) -> None:
    for nothing in ("", "/"):
        assert fsevents.start(nothing)
        assert fsevents._folders == {}
        fsevents.stop()
    assert fsevents.start(str(tmp_path))
    fsevents.stop()
    (tmp_path / "after.txt").write_text("x")
    assert fsevents.events() == ([], False)


def test_a_removed_folder_is_let_go(folder: Path) -> None:
    sub = folder / "sub"
    sub.mkdir()
    assert seen() == set()  # (watched from here on)
    assert str(sub) in fsevents._watched
    sub.rmdir()
    assert seen() == set()
    assert str(sub) not in fsevents._watched and str(sub) not in fsevents._folders.values()


def test_a_folder_made_and_removed_between_records_loses_nothing(folder: Path) -> None:
    scratch = folder / "scratch"
    scratch.mkdir()
    (scratch / "part.tmp").write_text("x")
    (scratch / "part.tmp").unlink()
    scratch.rmdir()
    found, lost = fsevents.events()
    assert found == [] and not lost  # (its files' events were sent to no watch)


def test_past_the_folders_a_kernel_watches_a_new_folder_is_said_lost(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsevents, "MAX_FOLDERS", len(fsevents._folders))
    (folder / "one_more").mkdir()
    found, lost = fsevents.events()
    assert found == [] and lost


def test_a_folder_changed_to_gives_the_files_written_there_since_by_their_times(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A cell changed to ``other`` at ``since`` and had a program write there: no watch yet.
    other = tmp_path_factory.mktemp("changed_to")
    old = other / "old.csv"
    old.write_text("old")
    os.utime(old, (time.time() - 60, time.time() - 60))
    kept = tmp_path_factory.mktemp("kept") / "moved.csv"
    kept.write_text("m")
    os.utime(kept, (time.time() - 60, time.time() - 60))
    os.utime(other, (time.time() - 60, time.time() - 60))
    time.sleep(0.1)  # past the clocks' slack
    since = time.time()
    (other / "sub").mkdir()
    (other / "sub" / "new.txt").write_text("n")
    (other / "made.txt").write_text("7")
    kept.rename(other / "moved.csv")  # its data's time is old, its own is not
    (other / ".hidden").write_text("h")
    found, cut = fsevents.written_since(str(other), since)
    assert sorted(found) == sorted(
        str(p) for p in (other / "made.txt", other / "sub" / "new.txt", other / "moved.csv")
    )
    assert not cut
    # The notebook's folder is watched: its events say what was written there, not its times.
    (folder / "w.txt").write_text("w")
    assert fsevents.written_since(str(folder), since) == ([], False)


def test_a_folder_changed_to_is_looked_at_within_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text("x")
    monkeypatch.setattr(fsevents, "MAX_FILES", 2)
    found, cut = fsevents.written_since(str(tmp_path), time.time() - 10)
    assert cut and len(found) == 2
