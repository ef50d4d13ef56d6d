"""The file wrappers of ``touches``, in-process: what user code sees of them while the tracker is
loaded, and what a cell's collection keeps. The kernel tests record through the real tracker."""

from __future__ import annotations

import builtins
import inspect
import io
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import fsevents, touches

ORIGINALS = (builtins.open, io.open, os.remove, os.rename)


@pytest.fixture
def installed() -> Iterator[None]:
    touches.install()
    try:
        yield
    finally:
        touches.uninstall()
    assert (builtins.open, io.open, os.remove, os.rename) == ORIGINALS


def replacement() -> Callable[[str], None]:
    """Someone's ``os.remove`` (a test's monkeypatch, a library's wrapper): calls what it
    replaced, as most do."""
    replaced = os.remove

    def theirs(path: str) -> None:
        replaced(path)

    return theirs


def test_wrappers_stay_in_place_between_cells_and_go_when_uninstalled(installed: None) -> None:
    wrapped = (builtins.open, io.open, os.remove, os.rename)
    assert all(isinstance(fn, touches._Wrapper) for fn in wrapped)
    assert builtins.open is io.open  # one wrapper per function, wherever it lives
    collecting = touches.start()
    assert (builtins.open, io.open, os.remove, os.rename) == wrapped
    touches.stop(collecting)
    assert (builtins.open, io.open, os.remove, os.rename) == wrapped


def test_a_class_attribute_holding_a_wrapper_is_not_bound_as_a_method(
    installed: None, tmp_path: Path
) -> None:
    # Library code run in a cell (``class Store: opener = open``) keeps what it captured: a
    # function there would get the instance as its first argument, a builtin never does.
    class Store:
        opener = open
        remove = os.remove

    path = tmp_path / "kept.txt"
    collecting = touches.start()
    Store().opener(path, "w").close()  # type: ignore[misc, call-overload]
    record = collecting.record()
    touches.stop(collecting)
    Store().remove(path)  # type: ignore[misc, call-arg, arg-type]  # between cells too
    assert record["files"]["written"] == [touches.shown(str(path))]
    assert not path.exists()


def test_wrappers_look_like_what_they_stand_for(installed: None) -> None:
    assert inspect.signature(os.remove) == inspect.signature(ORIGINALS[2])
    assert os.remove.__name__ == "remove" and os.remove.__doc__ == ORIGINALS[2].__doc__
    assert repr(open) == repr(ORIGINALS[0])
    # Pickled by reference: another process (without the tracker) gets its own function.
    assert b"wrapper" not in pickle.dumps(os.remove).lower()
    assert pickle.loads(pickle.dumps([open, os.remove, os.rename])) == [open, os.remove, os.rename]


def test_only_calls_on_the_cells_thread_during_the_cell_are_recorded(
    installed: None, tmp_path: Path
) -> None:
    before, during, other = (tmp_path / n for n in ("before.txt", "during.txt", "other.txt"))
    before.write_text("x")
    collecting = touches.start()
    during.write_text("x")
    thread = threading.Thread(target=other.write_text, args=("x",))
    thread.start()
    thread.join()
    os.rename(before, tmp_path / "after.txt")
    record = collecting.record()
    touches.stop(collecting)
    (tmp_path / "after.txt").unlink()  # after the cell: not this record's
    assert record["files"] == {
        "read": [],
        "written": sorted(touches.shown(str(p)) for p in (during, tmp_path / "after.txt")),
        "removed": [touches.shown(str(before))],
    }


def test_a_function_replaced_after_install_is_wrapped_for_the_cell_only(
    installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    wrapper = os.remove

    def mine(path: str) -> None:
        calls.append(path)
        wrapper(path)

    monkeypatch.setattr(os, "remove", mine)
    path = tmp_path / "gone.txt"
    path.write_text("x")
    collecting = touches.start()
    assert os.remove is not mine  # theirs, wrapped for this cell
    os.remove(path)
    record = collecting.record()
    touches.stop(collecting)
    assert os.remove is mine and calls == [path]
    assert record["files"]["removed"] == [touches.shown(str(path))]


def test_the_check_in_the_wait_finds_what_the_last_cell_replaced(
    installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gone.txt"
    path.write_text("x")
    mine = replacement()
    first = touches.start()
    monkeypatch.setattr(os, "remove", mine)  # the cell replaces it
    touches.stop(first)
    touches.check()  # its record, in the wait before its reply
    assert os.remove is mine
    second = touches.start()
    assert isinstance(os.remove, touches._Wrapper) and os.remove.__revive_wrapped__ is mine
    os.remove(path)
    record = second.record()
    touches.stop(second)
    assert os.remove is mine
    assert record["files"]["removed"] == [touches.shown(str(path))]


def test_a_replacement_between_the_check_and_the_cell_is_wrapped_from_the_next_check(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What moving the check off the cell's path trades: code outside any cell (a widget's
    # callback) that replaces a function after the check goes unwrapped for one cell. (Most
    # replacements call what they replaced, our wrapper: their calls are seen all the same.)
    mine = replacement()
    touches.check()
    monkeypatch.setattr(os, "remove", mine)
    unseen = touches.start()
    assert os.remove is mine
    touches.stop(unseen)
    touches.check()
    seen = touches.start()
    assert os.remove is not mine and os.remove.__revive_wrapped__ is mine  # type: ignore[attr-defined]
    touches.stop(seen)
    assert os.remove is mine


def test_a_place_checked_as_foreign_is_read_again_at_the_start(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = replacement(), replacement()
    monkeypatch.setattr(os, "remove", mine)
    touches.check()
    monkeypatch.setattr(os, "remove", theirs)  # replaced again before the cell
    collecting = touches.start()
    assert os.remove.__revive_wrapped__ is theirs  # type: ignore[attr-defined]
    touches.stop(collecting)
    assert os.remove is theirs  # not the one the check saw


def test_the_collection_made_in_the_wait_is_the_next_cells_on_its_own_thread(
    installed: None,
) -> None:
    touches.check()
    started: list[touches.Touches] = []
    cell = threading.Thread(target=lambda: started.append(touches.start()))
    cell.start()
    cell.join()
    (collecting,) = started
    assert collecting.thread == cell.ident  # a subshell runs cells on a thread of its own
    touches.stop(collecting)
    fresh = touches.start()  # no check since: made at the start, used once
    touches.stop(fresh)
    assert fresh is not collecting and fresh.read is None and fresh.thread == threading.get_ident()


def test_without_install_functions_are_wrapped_for_the_cell_only() -> None:
    collecting = touches.start()
    try:
        assert isinstance(os.remove, touches._Wrapper)
    finally:
        touches.stop(collecting)
    assert (builtins.open, io.open, os.remove, os.rename) == ORIGINALS


def test_modules_imported_or_reloaded_from_the_notebooks_files_are_read(
    installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import system opens a module's file in C: a module imported since the last execution
    counts as a read of its file (the standard library's do not), and so does a reload."""
    import importlib
    import sys

    (tmp_path / "revive_probe_mod.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "revive_probe_mod", raising=False)
    path = touches.shown(str(tmp_path / "revive_probe_mod.py"))

    collecting = touches.start()
    module = importlib.import_module("revive_probe_mod")
    monkeypatch.delitem(sys.modules, "tabnanny", raising=False)
    importlib.import_module("tabnanny")  # the interpreter's own files: not data

    record = collecting.record()
    touches.stop(collecting)
    assert record["files"]["read"] == [path]

    collecting = touches.start()
    importlib.import_module("revive_probe_mod")  # already imported: nothing read
    assert collecting.record()["files"] == touches.UNTOUCHED["files"]
    touches.stop(collecting)

    collecting = touches.start()
    importlib.reload(module)
    record = collecting.record()
    touches.stop(collecting)
    assert record["files"]["read"] == [path]


def _cell(body: Callable[[], object]) -> tuple[touches.Touched, object]:
    """Run ``body`` as a cell's code: (its record, its result)."""
    collecting = touches.start()
    try:
        result = body()
    finally:
        touches.stop(collecting)
    return collecting.record(), result


def test_writes_through_a_handle_kept_open_count_for_the_cells_that_made_them(
    installed: None, tmp_path: Path
) -> None:
    """A handle opened in one cell and written in later ones (``f.write``, a ``csv.writer``):
    each cell that changed what it holds or its file wrote the file; the tracker flushes
    nothing."""
    text, data = tmp_path / "log.txt", tmp_path / "log.bin"
    opened, f = _cell(lambda: open(text, "w"))  # noqa: SIM115
    assert opened["files"]["written"] == [touches.shown(str(text))]
    _, b = _cell(lambda: open(data, "wb"))  # noqa: SIM115
    assert isinstance(f, io.TextIOWrapper) and isinstance(b, io.BufferedWriter)

    def written(record: touches.Touched) -> list[str]:
        return record["files"]["written"]

    assert written(_cell(lambda: f.write("a"))[0]) == [touches.shown(str(text))]
    assert text.read_text() == ""  # held by the text layer: seen there, left there
    assert written(_cell(lambda: b.write(b"xyz"))[0]) == [touches.shown(str(data))]
    assert data.read_bytes() == b""  # buffered: seen by its position
    assert written(_cell(lambda: len(text.read_text()))[0]) == []  # reading is no write
    assert written(_cell(f.flush)[0]) == [touches.shown(str(text))]
    assert written(_cell(b.close)[0]) == [touches.shown(str(data))]
    assert (text.read_text(), data.read_bytes()) == ("a", b"xyz")
    assert written(_cell(lambda: None)[0]) == []
    f.close()


def test_handles_met_elsewhere_are_watched_only_when_they_write_a_regular_file(
    tmp_path: Path,
) -> None:
    from jupyter_revive.kernel_manager.jupyter_revive_tracker import handles

    handles.clear()
    path = tmp_path / "h.txt"
    path.write_text("x")
    read_end, write_end = os.pipe()
    with open(path) as reader, open(write_end, "w") as pipe, open(path, "a") as appender:
        handles.watch(reader)  # reads only
        handles.watch(pipe)  # not a regular file
        assert handles._watched == {}
        handles.watch(appender)  # a handler's stream, reached by the fingerprint walk
        handles.watch(appender)
        assert len(handles._watched) == 1
        assert handles.written() == []
        appender.write("y")
        assert handles.written() == [str(path)]
        assert handles.written() == []
    assert handles.written() == [str(path)]  # closed (a close flushes): counted, let go
    assert handles._watched == {}
    os.close(read_end)


def test_text_files_show_what_they_hold_back_where_cpython_lays_it_out_as_probed() -> None:
    from jupyter_revive.kernel_manager.jupyter_revive_tracker import handles

    assert handles._pending is not None  # CPython, 64-bit: the probe found the field
    f = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    f.write("héllo")
    assert handles._pending(f) == len("héllo".encode())
    f.flush()
    assert handles._pending(f) == 0


def test_writable_memory_maps_name_their_files(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    from jupyter_revive.kernel_manager.jupyter_revive_tracker import handles

    path = tmp_path / "m.dat"
    written = numpy.memmap(path, dtype="float64", mode="w+", shape=(4,))
    read = numpy.memmap(path, dtype="float64", mode="r", shape=(4,))
    assert handles.mapped([written, read, written[:2], numpy.zeros(2)]) == [str(path)] * 2


def test_listings_of_the_users_folders_are_recorded(installed: None, tmp_path: Path) -> None:
    import glob

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("1")
    folder, sub = touches.shown(str(tmp_path)), touches.shown(str(tmp_path / "sub"))
    record, _ = _cell(lambda: sorted(os.listdir(tmp_path)))
    assert record["files"]["listed"] == [folder]
    record, _ = _cell(lambda: glob.glob(str(tmp_path / "*.csv")))
    assert record["files"]["listed"] == [folder]
    record, _ = _cell(lambda: [p.name for p in (tmp_path / "sub").iterdir()])
    assert record["files"]["listed"] == [sub]
    record, _ = _cell(lambda: list(os.walk(tmp_path)))
    assert record["files"]["listed"] == sorted([folder, sub])
    record, _ = _cell(lambda: os.listdir(os.path.dirname(os.__file__)))  # the interpreter's
    assert record is touches.UNTOUCHED
    if os.path.join(os.getcwd(), "") == touches._BASE:
        record, _ = _cell(os.listdir)
        assert record["files"]["listed"] == ["."]  # the notebook's own folder


def test_a_program_writing_in_a_folder_the_cell_changed_to_wrote_its_files(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C code and programs write unseen by the wrappers; in a folder the cell changed to, before
    its watch began (or gone back from), the files' times say what they wrote."""
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("home")  # the kernel's folder: nothing else writes there
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "old.txt").write_text("old")
    time.sleep(2 * fsevents.CLOCK_SLACK)  # (it was there before the cell)
    code = f'open({str(elsewhere / "made.txt")!r}, "w").write("7")'

    def body() -> None:
        os.chdir(elsewhere)
        try:
            subprocess.run([sys.executable, "-c", code], check=True)
        finally:
            os.chdir(home)

    monkeypatch.chdir(home)
    touches.install()
    try:
        record, _ = _cell(body)
        assert record["files"]["written"] == [touches.shown(str(elsewhere / "made.txt"))]
        assert record["env"]["cwd"] is True
        if fsevents._fd is not None:  # (Linux) watched from then on: what happens there shows
            assert str(elsewhere) in fsevents._watched
            record, _ = _cell(lambda: subprocess.run([sys.executable, "-c", code], check=True))
            assert record["files"]["written"] == [touches.shown(str(elsewhere / "made.txt"))]
    finally:
        touches.uninstall()
