"""Warnings a plan carries, and its JSON shape."""

from __future__ import annotations

import json

from jupyter_revive.dataflow import plan_notebook

from .notebooks import notebook


def kinds(nb, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.kind for w in plan_notebook(nb, **kw).warnings]


def test_json_matches_the_cli_contract() -> None:
    plan = plan_notebook(notebook(["x = 1", "y = x"], order=[0, 1]))
    data = json.loads(json.dumps(plan.to_json()))
    assert set(data) == {"cells", "names", "kinds", "unrestorable", "warnings"}
    assert data["cells"] == [
        {"index": 0, "id": "c0", "reason": "defines x; read by cell 2"},
        {"index": 1, "id": "c1", "reason": "defines y"},
    ]
    assert data["names"] == ["y", "x"] and data["kinds"] == {}  # the product first
    assert data["unrestorable"] == []


def test_warning_json_has_kind_cell_id_message() -> None:
    nb = notebook(["!echo hi > f.txt\nx = 1"], order=[0])
    (warning,) = plan_notebook(nb).to_json()["warnings"]
    assert warning["kind"] == "side-effect"
    assert warning["cell"] == 0 and warning["id"] == "c0"
    assert "echo hi" in warning["message"]


def test_edited_planned_cell_is_warned_and_replayed_with_current_code() -> None:
    nb = notebook(["x = 1"], order=[0])
    nb.cells[0].source = "x = 2"
    plan = plan_notebook(nb)
    assert [c.index for c in plan.cells] == [0]
    (warning,) = plan.warnings
    assert warning.kind == "edited" and "replays its current code" in warning.message


def test_edited_unplanned_cell_is_still_reported() -> None:
    nb = notebook(["x = 1", "print(x)"], order=[0, 1])
    nb.cells[1].source = "print(x, 2)"
    assert kinds(nb) == ["edited"]


def test_deleted_cell_in_history_is_reported() -> None:
    nb = notebook(["x = 1"], order=[0])
    nb.metadata["revive"]["history"].insert(0, ["gone", "0123456789abcdef"])
    plan = plan_notebook(nb)
    assert [w.kind for w in plan.warnings] == ["deleted"]
    assert plan.warnings[0].cell is None and "gone" in plan.warnings[0].message


def test_name_only_a_deleted_cell_defined_is_unrestorable() -> None:
    nb = notebook(["y = 1"], order=[0])
    nb.metadata["revive"]["history"].insert(0, ["gone", "0123456789abcdef"])
    assert plan_notebook(nb, ["x"]).unrestorable == ("x",)


def test_unparsable_cell_in_history_is_reported() -> None:
    nb = notebook(["x = (", "y = 1"], order=[0, 1])
    assert kinds(nb) == ["unparsable"]


def test_unseeded_randomness_in_plan_is_warned() -> None:
    nb = notebook(["import numpy as np", "x = np.random.rand(3)"], order=[0, 1])
    assert kinds(nb) == ["unseeded-random"]


def test_seed_earlier_in_history_silences_randomness_warning() -> None:
    nb = notebook(["import numpy as np", "np.random.seed(1)", "x = np.random.rand(3)"])
    assert kinds(nb) == []


def test_unseeded_generator_is_warned() -> None:
    nb = notebook(["import numpy as np", "rng = np.random.default_rng()"])
    assert kinds(nb) == ["unseeded-random"]


def test_side_effects_outside_the_plan_are_not_warned() -> None:
    nb = notebook(["x = 1", "!rm -rf build"], order=[0, 1])
    assert kinds(nb) == []


def test_install_magic_in_plan_is_warned() -> None:
    nb = notebook(["%pip install tqdm\nimport tqdm"], order=[0])
    assert kinds(nb) == ["side-effect"]


def test_dynamic_fallback_is_warned() -> None:
    nb = notebook(["exec(src)", "y = x"], order=[0, 1])
    assert "dynamic" in kinds(nb, names=["y"])


def test_failed_cell_in_plan_is_warned() -> None:
    nb = notebook(
        ["a = 1\nraise ValueError"], order=[0], ledger={0: {"status": "error", "defined": ["a"]}}
    )
    plan = plan_notebook(nb)
    assert [w.kind for w in plan.warnings] == ["error"]
    assert "binding a" in plan.warnings[0].message


def test_rebuilt_live_name_is_warned() -> None:
    nb = notebook(["a = []", "b = len(a)\na.append(1)"], order=[0, 1])
    assert kinds(nb, live_names=["a"]) == ["live"]


def test_repeated_cell_reason_numbers_its_runs() -> None:
    plan = plan_notebook(notebook(["n = 0", "n += 1"], order=[0, 1, 1]))
    assert plan.cells[1].reason.endswith("(run 1 of 2)")
    assert "its next run" in plan.cells[1].reason
    assert plan.cells[2].reason.endswith("(run 2 of 2)")


def test_internal_names_are_never_targets() -> None:
    plan = plan_notebook(notebook(["_ = 1", "_i3 = 'x'", "x = 2"], order=[0, 1, 2]))
    assert plan.names == ("x",)


def test_working_directory_change_is_explained_not_warned() -> None:
    plan = plan_notebook(notebook(["%cd /tmp", "text = open('f.txt').read()"]))
    assert plan.warnings == ()
    assert plan.cells[0].reason == "changes the working directory; read by cell 2"


def test_dynamic_cell_reason_names_what_it_may_define() -> None:
    plan = plan_notebook(notebook(["exec(src)", "y = x"]), ["y"])
    assert plan.cells[0].reason == "may define x dynamically; read by cell 2"


def _files(**files: list[str]) -> dict[str, object]:
    empty: dict[str, list[str]] = {"read": [], "written": [], "removed": []}
    return {"status": "ok", "defined": [], "files": empty | files}


def test_listing_a_folder_that_later_runs_wrote_into_is_warned() -> None:
    cells = ["open('d/a.txt', 'w').close()", "names = os.listdir('d')", "open('d/b.txt', 'w')"]
    ledger = {
        0: _files(written=["d/a.txt"]),
        1: {**_files(listed=["d"]), "defined": ["names"]},
        2: _files(written=["d/b.txt"]),
    }
    plan = plan_notebook(notebook(cells, order=[0, 1, 2], ledger=ledger), ["names"])
    # The listing sees which of the notebook's files exist: their writer runs first.
    assert [c.index for c in plan.cells] == [0, 1]
    (listing,) = [w for w in plan.warnings if w.kind == "listing"]
    assert listing.cell == 1 and "cell 3" in listing.message and "lists d" in listing.message


def test_listing_nothing_changed_later_is_not_warned() -> None:
    cells = ["open('a.txt', 'w').close()", "names = os.listdir()", "open('../b.txt', 'w')"]
    ledger = {
        0: _files(written=["a.txt"]),
        1: {**_files(listed=["."]), "defined": ["names"]},
        2: _files(written=["../b.txt", "~/c.txt", "/tmp/d.txt"]),  # outside the folder
    }
    plan = plan_notebook(notebook(cells, order=[0, 1, 2], ledger=ledger), ["names"])
    assert [c.index for c in plan.cells] == [0, 1]
    assert "listing" not in [w.kind for w in plan.warnings]


def test_files_a_run_was_seen_changing_without_a_write_in_its_source_are_warned() -> None:
    """C code or a program the cell ran wrote them (the OS reported it): a replay writes again,
    an append or a database insert twice."""
    cells = [
        "con = sqlite3.connect(path)\ninsert(con, rows)",
        "total = con.execute(q).fetchone()[0]",
        "out = !./make_all.sh",
        "with open('log.txt', 'w') as f:\n    f.write('x')",
    ]
    ledger = {
        0: {**_files(written=["db.sqlite"]), "defined": ["con"]},
        1: {**_files(read=["db.sqlite"]), "defined": ["total"]},
        2: {
            **_files(written=["a.csv", "b.csv", "c.csv", "d.csv", "e.csv"], removed=["tmp.txt"]),
            "defined": ["out"],
        },
        3: {**_files(written=["log.txt"]), "defined": ["f"]},  # the source shows this write
    }
    nb = notebook(cells, order=[0, 1, 2, 3], ledger=ledger)
    plan = plan_notebook(nb)
    side = {w.cell: w.message for w in plan.warnings if w.kind == "side-effect"}
    assert "changes db.sqlite (file-write)" in side[0]
    assert "changes a.csv, b.csv, c.csv (+3) (file-write)" in side[2]
    assert "(shell)" in side[2]  # what the source shows stays
    assert "changes" not in side[3] and "open(..., 'w') (file-write)" in side[3]
    assert 1 not in side
