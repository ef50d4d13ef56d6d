"""The execution graph (`POST graph`, `jupyter revive graph`) and the reproducibility check
(`jupyter revive check`): pure, from the notebook's recorded history."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from jupyter_revive.cli import main
from jupyter_revive.dataflow.check import findings
from jupyter_revive.dataflow.graph import build_graph
from jupyter_revive.dataflow.loading import plan_restore

from .notebooks import notebook

PIPELINE = [
    "import pandas as pd",
    "df = pd.read_csv('data.csv')",
    "cleaned = df.dropna()\ncleaned.to_parquet('clean.parquet')",
    "model = pd.read_parquet('clean.parquet').mean()",
    "predictions = model * 2",
]
OBSERVED = {  # the tracker's run records (metadata.revive of the cells)
    2: {"files": {"written": ["clean.parquet"]}},
    3: {"files": {"read": ["clean.parquet"]}},
}


def edges(graph: object) -> set[tuple[str, str, str, tuple[str, ...]]]:
    return {(e.source, e.target, e.kind, e.names) for e in graph.edges}  # type: ignore[attr-defined]


def test_edges_carry_the_names_and_files_that_flow_between_executions() -> None:
    graph = build_graph(notebook(PIPELINE, [0, 1, 2, 3, 4], ledger=OBSERVED))
    assert [n.cell for n in graph.nodes] == [0, 1, 2, 3, 4]
    assert {n.state for n in graph.nodes} == {"recorded"}  # no kernel asked
    assert edges(graph) >= {
        ("e0", "e1", "name", ("pd",)),
        ("e1", "e2", "name", ("df",)),
        ("e2", "e3", "file", ("clean.parquet",)),  # observed: written, then read back
        ("e3", "e4", "name", ("model",)),
    }
    assert graph.nodes[2].defines == ("cleaned",)
    assert graph.nodes[3].label == "model = pd.read_parquet('clean.parquet').mean()"
    dot = graph.to_dot()
    assert dot.startswith("digraph notebook {")
    assert 'e2 -> e3 [label="clean.parquet", style=dashed]' in dot


def test_a_patched_library_flows_to_the_cells_after_it_as_hidden_state() -> None:
    cells = [
        "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
        "pd.DataFrame.mean = lambda self: 42.0",
        "m = df.mean()",
    ]
    graph = build_graph(notebook(cells, [0, 1, 2]))
    assert ("e1", "e2", "state", ("pd (patched)",)) in edges(graph)


def test_a_class_the_tracker_saw_patched_flows_to_the_cells_after_it() -> None:
    cells = [
        "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
        "type(df).mean = lambda self: 42.0",  # no source names the class
        "m = df.mean()",
    ]
    seen = {"env": {"vars": [], "cwd": False, "options": [], "classes": ["pandas.DataFrame"]}}
    graph = build_graph(notebook(cells, [0, 1, 2], ledger={1: seen}))
    assert ("e1", "e2", "state", ("pandas.DataFrame (patched)",)) in edges(graph)


def test_after_a_restart_nodes_say_what_a_restore_does() -> None:
    nb = notebook(PIPELINE, [0, 1, 2, 3, 4])
    restore = plan_restore(nb, ["model"])
    graph = build_graph(nb, live=False, restore=restore)
    states = [n.state for n in graph.nodes]
    assert states[3] == "rerun" and states[4] == "lost"
    assert build_graph(nb, live=True).to_json()["state"] == "live"


def test_edited_deleted_and_failed_executions_are_marked() -> None:
    nb = notebook(PIPELINE, [0, 1, 2], ledger={2: {"status": "error"}})
    nb.cells[1].source = "df = pd.read_csv('other.csv')"
    graph = build_graph(nb)
    assert graph.nodes[1].edited and graph.nodes[2].failed and not graph.nodes[0].edited


def test_a_clean_top_to_bottom_run_has_no_findings() -> None:
    assert findings(notebook(PIPELINE, [0, 1, 2, 3, 4], ledger=OBSERVED)) == []
    assert findings(notebook(PIPELINE, [0, 1, 1, 2, 3, 4])) == []  # re-reading a file is fine


def test_out_of_order_runs_repeated_cells_and_edits_are_found() -> None:
    cells = ["x = 1", "y = x + z", "z = 2", "x += 1"]
    found = findings(notebook(cells, [0, 2, 1, 3, 3]))
    lines = {(f.kind, f.cell) for f in found}
    assert ("order", 1) in lines  # cell 2 used z from cell 3 below it
    assert ("repeated", 3) in lines  # x += 1 ran twice
    messages = [f.line("nb.ipynb") for f in found]
    assert "nb.ipynb: cell 2: used z, made by cell 3 below it" in messages

    nb = notebook([*cells[:2], "z = 2"], [0, 2, 1])
    nb.cells[2].source = "z = 3"
    kinds = {(f.kind, f.cell) for f in findings(nb)}
    assert ("edited", 2) in kinds and ("edited", 1) in kinds  # edited; and its old z was used


def test_deleted_cells_and_environment_set_by_a_cell_edited_since_are_found() -> None:
    cells = ["import os", "os.environ['MODE'] = 'fast'", "mode = os.environ['MODE']", "x = 1"]
    ledger = {1: {"env": {"vars": ["MODE"]}}}
    nb = notebook(cells, [0, 1, 2, 3], ledger=ledger)
    nb.cells[1].source = "os.environ['MODE'] = 'slow'"
    found = {(f.kind, f.cell): f.message for f in findings(nb)}
    used = found[("edited", 2)]
    assert used.startswith("used $MODE")
    assert used.endswith("from cell 2 before that cell was edited")
    assert found[("edited", 1)] == "edited after it last ran"

    nb = notebook(cells, [0, 1, 2, 3])
    del nb.cells[3]
    (finding,) = findings(nb)
    assert (finding.kind, finding.cell) == ("deleted", None)
    assert finding.line("nb.ipynb") == (
        "nb.ipynb: a deleted cell: ran (4th execution) and was deleted since: "
        "what it made cannot be replayed"
    )


def write(tmp_path: Path, name: str, nb: nbformat.NotebookNode) -> str:
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return str(path)


def test_the_cli_check_exits_1_with_one_line_per_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = write(tmp_path, "clean.ipynb", notebook(PIPELINE, [0, 1, 2, 3, 4]))
    messy = write(tmp_path, "messy.ipynb", notebook(["y = z", "z = 2"], [1, 0]))
    assert main(["check", clean]) == 0 and capsys.readouterr().out == ""
    assert main(["check", clean, messy]) == 1
    assert capsys.readouterr().out == f"{messy}: cell 1: used z, made by cell 2 below it\n"
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2


def test_the_cli_graph_prints_text_json_and_dot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "nb.ipynb", notebook(PIPELINE, [0, 1, 2, 3, 4]))
    assert main(["graph", path]) == 0
    text = capsys.readouterr().out
    assert "e1  cell 2: df = pd.read_csv('data.csv')" in text and "uses df from e1" in text
    assert main(["graph", path, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 5
    assert main(["graph", path, "--dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph")
