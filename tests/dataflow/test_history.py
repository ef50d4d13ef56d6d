"""Which executions get replayed, in which order, and what the ledger contributes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from jupyter_revive.dataflow import code_sha, plan_notebook, read_history, rules

from .notebooks import CONTEXT, notebook


def test_code_sha_is_first_16_hex_of_sha256_utf8() -> None:
    assert code_sha("x = 'é'") == hashlib.sha256("x = 'é'".encode()).hexdigest()[:16]
    assert code_sha("") == "e3b0c44298fc1c14"


def test_recorded_history_wins_and_keeps_repeats() -> None:
    nb = notebook(["a = 1", "b = 2"], order=[1, 0, 1], counts=[1, 2])
    history = read_history(nb)
    assert history.source == "history"
    assert [e.cell_index for e in history.executions] == [1, 0, 1]


def test_execution_counts_order_when_no_history() -> None:
    history = read_history(notebook(["a", "b", "c"], counts=[3, None, 1]))
    assert history.source == "execution_count"
    assert [e.cell_index for e in history.executions] == [2, 0]


def test_document_order_when_nothing_recorded() -> None:
    history = read_history(notebook(["a", "md", "c"], markdown=[1]))
    assert history.source == "document"
    assert [e.cell_index for e in history.executions] == [0, 2]


def test_deleted_cell_stays_in_history_as_unreplayable() -> None:
    nb = notebook(["a = 1"], order=[0])
    nb.metadata["revive"]["history"].append(["gone", "0123456789abcdef"])
    last = read_history(nb).executions[-1]
    assert last.cell_index is None
    assert not last.replayable


def test_edited_cell_is_detected_by_hash() -> None:
    nb = notebook(["a = 1"], order=[0])
    nb.cells[0].source = "a = 2"
    assert read_history(nb).executions[0].edited


def test_ledger_attaches_to_the_last_run_only() -> None:
    nb = notebook(["n += 1"], order=[0, 0], ledger={0: {"defined": ["n"]}})
    first, last = read_history(nb).executions
    assert first.ledger is None
    assert last.ledger is not None and last.ledger.defined == {"n"}


def test_ledger_from_another_context_is_ignored() -> None:
    nb = notebook(["x = 1"], order=[0], ledger={0: {"defined": ["x"], "context": "other"}})
    assert read_history(nb).executions[0].ledger is None
    assert nb.metadata["revive"]["context"] == CONTEXT


def test_malformed_history_entries_are_counted_not_fatal() -> None:
    nb = notebook(["x = 1"], order=[0])
    nb.metadata["revive"]["history"] += [42, ["c0", 7], []]
    history = read_history(nb)
    assert history.malformed_entries == 3
    assert len(history.executions) == 1


def test_list_sources_from_raw_json_are_joined() -> None:
    nb = notebook(["x = 1\ny = 2"], order=[0])
    raw = nb.copy()
    raw["cells"] = [dict(nb.cells[0], source=["x = 1\n", "y = 2"])]
    execution = read_history(raw).executions[0]
    assert execution.source == "x = 1\ny = 2"
    assert not execution.edited


@pytest.mark.parametrize(
    "nb",
    [
        {},
        {"cells": None, "metadata": None},
        {"cells": [None, 3, {"cell_type": "code", "source": 5}], "metadata": {"revive": 1}},
        {"cells": [{"cell_type": "code", "source": ["x = 1"], "id": 7}]},
        {"cells": [], "metadata": {"revive": {"history": "nope", "context": 4}}},
        {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"revive": []}}]},
    ],
)
def test_malformed_notebook_json_never_raises(nb: dict[str, Any]) -> None:
    plan = plan_notebook(nb)
    assert plan.to_json()["unrestorable"] == []


@pytest.mark.parametrize("name", ["In", "Out", "_", "_i3", "_42", "__warningregistry__", "display"])
def test_interpreter_names_are_never_restore_targets(name: str) -> None:
    assert rules.is_kernel_internal(name)


@pytest.mark.parametrize("name", ["df", "_private", "i3", "__x"])
def test_user_names_are_restore_targets(name: str) -> None:
    assert not rules.is_kernel_internal(name)
