"""The tracker's checkpoint writer and loader, in-process: groups, out-of-band buffers, what is
left to recomputation, and files that do not match their hashes (never unpickled)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import stat
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jupyter_revive.kernel_manager.jupyter_revive_tracker.checkpoint import groups, load, save

from .conftest import start_kernel

MARK = "jupyter_revive_test_unpickled_mark"


class Evil:
    """Unpickling this leaves a mark: proof that a refused file was never unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (exec, (f"open({self.path!r}, 'w').close()",))


def session(*cells: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "__main__"}
    for cell in cells:
        exec(cell, ns)
    return ns


def names_of(ns: dict[str, Any]) -> list[str]:
    return [n for n in ns if not n.startswith("__")]


def test_names_sharing_objects_are_grouped_and_come_back_shared(tmp_path: Path) -> None:
    ns = session(
        "import numpy as np",
        "a = [1, 2]\nb = a\nholder = {'k': a}",
        "arr = np.arange(200_000.0)\nview = arr[::2]",
        "alone = 'text'\nother = [3]",
    )
    ns["a"].append(ns["other"][0])  # an int shared: atoms never join groups
    names = names_of(ns)
    assert sorted(map(sorted, groups(ns, names))) == sorted(
        [["a", "b", "holder"], ["arr", "view"], ["alone"], ["other"], ["np"]]
    )
    saved = save(ns, names, str(tmp_path / "ckpt"))
    assert saved["replay"] == ["np"]  # a module: its import cell runs again
    fresh: dict[str, Any] = {}
    answer = load(fresh, str(tmp_path / "ckpt"), saved["groups"])
    assert answer["refused"] == []
    assert sorted(answer["loaded"]) == ["a", "alone", "arr", "b", "holder", "other", "view"]
    assert fresh["a"] is fresh["b"] is fresh["holder"]["k"] and fresh["a"] == [1, 2, 3]
    assert np.array_equal(fresh["arr"], ns["arr"]) and np.shares_memory(fresh["view"], fresh["arr"])
    fresh["view"][0] = -1.0  # still a view, and writable
    assert fresh["arr"][0] == -1.0


def test_large_buffers_go_to_their_own_files_and_small_ones_stay_in_the_stream(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({"x": np.arange(100_000.0), "y": np.arange(100_000) % 7})
    ns = {"frame": frame, "small": np.arange(10)}
    saved = save(ns, ["frame", "small"], str(tmp_path))
    by_name = {g["names"][0]: g for g in saved["groups"]}
    assert len(by_name["frame"]["blobs"]) >= 3  # the stream and the two column blocks
    assert len(by_name["small"]["blobs"]) == 1
    assert saved["bytes"] == sum(p.stat().st_size for p in tmp_path.iterdir())
    for blob in by_name["frame"]["blobs"]:
        mode = (tmp_path / blob["file"]).stat().st_mode
        assert stat.S_IMODE(mode) == 0o600  # only the user reads checkpoint files
    fresh: dict[str, Any] = {}
    load(fresh, str(tmp_path), saved["groups"])
    pd.testing.assert_frame_equal(fresh["frame"], frame)


def test_what_does_not_pickle_is_listed_with_its_reason_and_the_rest_is_saved(
    tmp_path: Path,
) -> None:
    ns = session(
        "def f(x):\n    return x + 1",
        "class Point:\n    def __init__(self, x):\n        self.x = x",
        "gen = (i for i in range(3))",
        "data = [1, 2, 3]",
    )
    ns["lock"] = threading.Lock()
    saved = save(ns, names_of(ns), str(tmp_path))
    assert sorted(saved["replay"]) == ["Point", "f"]  # their cells are replayed, not pickled
    skipped = {s["name"]: s["reason"] for s in saved["skipped"]}
    assert set(skipped) == {"gen", "lock"}
    assert "generator" in skipped["gen"] and "lock" in skipped["lock"]
    saved_names = sorted(n for g in saved["groups"] for n in g["names"])
    assert saved_names == ["data"]
    # no half-written files of the groups that failed
    listed = {b["file"] for g in saved["groups"] for b in g["blobs"]}
    assert {p.name for p in tmp_path.iterdir()} == listed


def saved_pair(tmp_path: Path) -> tuple[Path, list[Any], dict[str, Any]]:
    ns = {"model": {"weights": list(range(100))}, "frame": pd.DataFrame({"x": range(20_000)})}
    folder = tmp_path / "ckpt"
    signed = save(ns, ["model", "frame"], str(folder))["groups"]
    return folder, signed, ns


def assert_refused_and_never_unpickled(
    folder: Path, signed: list[Any], mark: Path, *, names: list[str], why: str
) -> dict[str, Any]:
    fresh: dict[str, Any] = {}
    answer = load(fresh, str(folder), signed)
    refused = {r["name"]: r["reason"] for r in answer["refused"]}
    assert sorted(refused) == sorted(names)
    assert all(why in reason for reason in refused.values()), refused
    assert not mark.exists(), "a refused file was unpickled"
    assert not set(fresh) & set(names)
    return answer


def evil_bytes(mark: Path, size: int | None = None) -> bytes:
    payload = pickle.dumps({"model": Evil(str(mark))}, protocol=5)
    if size is not None:  # same size as the real file: only the hash can tell
        assert len(payload) <= size
        payload = payload + b"." * (size - len(payload))  # STOP before the padding
    return payload


def test_the_evil_payload_does_leave_a_mark_when_unpickled(tmp_path: Path) -> None:
    """The premise of the tamper tests: their payload is not inert."""
    mark = tmp_path / MARK
    pickle.loads(evil_bytes(mark, 500))
    assert mark.exists()


def test_a_replaced_stream_of_the_same_size_is_refused_and_never_unpickled(
    tmp_path: Path,
) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    mark = tmp_path / MARK
    model = next(g for g in signed if g["names"] == ["model"])
    target = folder / model["blobs"][0]["file"]
    target.write_bytes(evil_bytes(mark, target.stat().st_size))
    answer = assert_refused_and_never_unpickled(
        folder, signed, mark, names=["model"], why="SHA-256 differs"
    )
    assert answer["loaded"] == ["frame"]  # the untouched group still loads


def test_a_flipped_byte_in_a_buffer_refuses_its_whole_group(tmp_path: Path) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    frame = next(g for g in signed if g["names"] == ["frame"])
    blob = folder / frame["blobs"][1]["file"]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    answer = assert_refused_and_never_unpickled(
        folder, signed, tmp_path / MARK, names=["frame"], why="SHA-256 differs"
    )
    assert answer["loaded"] == ["model"]


def test_a_truncated_or_missing_file_is_refused(tmp_path: Path) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    frame = next(g for g in signed if g["names"] == ["frame"])
    model = next(g for g in signed if g["names"] == ["model"])
    blob = folder / frame["blobs"][-1]["file"]
    blob.write_bytes(blob.read_bytes()[:-10])
    (folder / model["blobs"][0]["file"]).unlink()
    answer = load({}, str(folder), signed)
    reasons = {r["name"]: r["reason"] for r in answer["refused"]}
    assert "bytes, the signed checkpoint" in reasons["frame"]
    assert "cannot be read" in reasons["model"]
    assert answer["loaded"] == []


def test_files_swapped_between_two_checkpoints_are_refused(tmp_path: Path) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    other = tmp_path / "other"
    save({"model": {"weights": list(range(100, 200))}}, ["model"], str(other))  # same size
    (folder / "g0.pkl").write_bytes((other / "g0.pkl").read_bytes())
    assert_refused_and_never_unpickled(
        folder, signed, tmp_path / MARK, names=["model"], why="SHA-256 differs"
    )


def test_a_file_name_outside_the_checkpoint_folder_is_refused(tmp_path: Path) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(evil_bytes(tmp_path / MARK))
    forged = copy.deepcopy(signed)
    model = next(g for g in forged if g["names"] == ["model"])
    model["blobs"][0] = {
        "file": "../outside.pkl",
        "sha256": hashlib.sha256(outside.read_bytes()).hexdigest(),
        "bytes": outside.stat().st_size,
    }
    assert_refused_and_never_unpickled(
        folder, forged, tmp_path / MARK, names=["model"], why="not a file name"
    )


def test_a_symlinked_file_is_refused(tmp_path: Path) -> None:
    folder, signed, _ = saved_pair(tmp_path)
    model = next(g for g in signed if g["names"] == ["model"])
    target = folder / model["blobs"][0]["file"]
    real = tmp_path / "real.pkl"
    real.write_bytes(target.read_bytes())
    target.unlink()
    os.symlink(real, target)
    answer = load({}, str(folder), signed)
    assert [r["name"] for r in answer["refused"]] == ["model"]


def test_writing_never_follows_or_overwrites_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "g0.pkl").write_text("someone else's", encoding="utf-8")
    saved = save({"x": [1]}, ["x"], str(tmp_path))
    assert saved["groups"] == [] and "FileExistsError" in saved["skipped"][0]["reason"]
    assert (tmp_path / "g0.pkl").read_text(encoding="utf-8") == "someone else's"


async def test_a_fresh_kernel_gets_the_values_back_through_the_tracker_api(
    kernelspecs: dict[str, str], tmp_path: Path
) -> None:
    """What a restore does: save in one kernel process, load in a new one."""
    folder = str(tmp_path / "ckpt")
    first = await start_kernel(kernelspecs["revive"])
    try:
        await first.run(
            "import pandas as pd\n"
            "df = pd.DataFrame({'x': range(50_000)})\n"
            "cleaned = df[df.x % 2 == 0]\n"
            "alias = cleaned\n"
            "class Point:\n    def __init__(self, x):\n        self.x = x\n"
            "p = Point(3)\n"
            "stream = open(__import__('os').devnull)"
        )
        saved = await first.tracker(f"checkpoint_json({folder!r})")
    finally:
        await first.stop()
    assert saved["seq"] == 1 and sorted(saved["replay"]) == ["Point", "pd"]
    assert [s["name"] for s in saved["skipped"]] == ["stream"]
    second = await start_kernel(kernelspecs["revive"])
    try:
        # the class's cell is replayed before data is loaded
        await second.run("class Point:\n    def __init__(self, x):\n        self.x = x")
        signed = json.dumps(saved["groups"])
        loaded = await second.tracker(f"load_json({folder!r}, {signed!r})")
        assert sorted(loaded["loaded"]) == ["alias", "cleaned", "df", "p"]
        assert await second.eval("type(p) is Point and p.x == 3") is True
        assert loaded["context"] != saved["context"]
        assert await second.eval("alias is cleaned and len(cleaned) == 25_000") is True
        assert await second.eval("int(df.x.sum())") == sum(range(50_000))
    finally:
        await second.stop()


def test_a_budget_skips_groups_estimated_too_large_and_writes_the_rest(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(1_000_000.0)})  # 8 MB
    ns = {"frame": frame, "view": frame, "small": [1, 2, 3], "arr": np.zeros(10)}
    saved = save(ns, list(ns), str(tmp_path), max_bytes=1_000_000)
    skipped = {s["name"]: s["reason"] for s in saved["skipped"]}
    assert set(skipped) == {"frame", "view"} and "about 8.0 MB" in skipped["frame"]
    assert sorted(n for g in saved["groups"] for n in g["names"]) == ["arr", "small"]
    assert saved["bytes"] < 1_000_000
