"""Restore plans that load a checkpoint: what is loaded, what still runs, in which order, and
when a checkpoint is not used (stale, another kernel, slower than recomputing)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jupyter_revive.dataflow import code_sha
from jupyter_revive.dataflow.history import read_history
from jupyter_revive.dataflow.loading import (
    CheckpointGroup,
    CheckpointOffer,
    checkpoint_position,
    plan_restore,
)

from .notebooks import CONTEXT, notebook

PIPELINE = [
    "import pandas as pd",  # c0
    "def clean(frame):\n    return frame.dropna()",  # c1
    "df = pd.read_csv('big.csv')",  # c2: 60 s
    "cleaned = clean(df)",  # c3: 5 s
    "model = fit(cleaned)",  # c4: 600 s
    "predictions = model.predict(cleaned)",  # c5: 2 s
    "print(predictions)",  # c6
]
MS = {0: 800, 1: 1, 2: 60_000, 3: 5_000, 4: 600_000, 5: 2_000, 6: 1}
ORDER = list(range(len(PIPELINE)))
MB = 1_000_000


def nb_of(cells: list[str] = PIPELINE, order: list[int] = ORDER) -> Any:
    ledger = {i: {"ms": MS.get(i, 1)} for i in set(order)}
    return notebook(cells, order, ledger=ledger)


def offer(
    groups: list[tuple[list[str], int]],
    upto: int = len(PIPELINE),
    cells: list[str] = PIPELINE,
    order: list[int] = ORDER,
    context: str = CONTEXT,
    speed: float = 500 * MB,
) -> list[CheckpointOffer]:
    executions = tuple((f"c{i}", code_sha(cells[i])) for i in order[:upto])
    return [
        CheckpointOffer(
            checkpoint="ck-1",
            context=context,
            executions=executions,
            groups=tuple(CheckpointGroup(tuple(n), b) for n, b in groups),
            bytes_per_s=speed,
        )
    ]


def ids(restore: Any) -> list[str]:
    return [c.cell_id for c in restore.plan.cells]


def test_loading_the_expensive_values_replays_only_the_cheap_definitions_first() -> None:
    restore = plan_restore(
        nb_of(),
        offers=offer([(["df"], 800 * MB), (["cleaned"], 700 * MB), (["model"], 5 * MB),
                     (["predictions"], 1 * MB)]),
    )  # fmt: skip
    assert restore.load is not None
    # Recomputing `cleaned` (5 s) beats reading 700 MB? No: 1.4 s. All four load; pandas and
    # the function are not in a checkpoint, their cells run before the load.
    assert set(restore.load.names) == {"df", "cleaned", "model", "predictions"}
    (step,) = restore.load.steps
    # position 6: the last change of a loaded name (predictions, cell 6); the print changes none
    assert ids(restore) == ["c0", "c1"] and step.at == 2 and step.position == 6
    assert restore.restore_s < 0.05 * restore.rerun_all_s  # the goal on this notebook
    assert restore.rerun_all_s == pytest.approx(sum(MS.values()) / 1000)
    as_json = restore.to_json()
    assert as_json["load"]["steps"][0]["checkpoint"] == "ck-1"
    assert as_json["estimate_s"]["restore"] > 0


def test_a_group_cheaper_to_recompute_than_to_read_is_recomputed() -> None:
    # reading 800 MB at 10 MB/s takes 80 s; the cell that makes df takes 60 s
    restore = plan_restore(
        nb_of(),
        offers=offer([(["df"], 800 * MB), (["model"], 5 * MB)], speed=10 * MB),
        names=["df", "model"],
    )
    assert restore.load is not None and restore.load.names == ("model",)
    assert ids(restore) == ["c0", "c2"]  # pandas, then df recomputed; the model loaded
    assert [o.to_json() for o in restore.outcomes] == [  # the plan's order: products first
        {"name": "model", "how": "load", "why": "from a verified checkpoint"},
        {"name": "df", "how": "rerun", "why": "re-running is faster than loading"},
    ]


def test_each_name_says_why_it_is_loaded_rerun_or_unrestorable() -> None:
    cells = [*PIPELINE, "print(undefined_thing)"]
    nb = nb_of(cells, [*ORDER, 7])
    nb.cells[3].source = "cleaned = clean(df).head(100)"  # edited after it ran
    (ckpt,) = offer([(["df"], MB), (["cleaned"], MB)], cells=cells)
    ckpt = replace(ckpt, skipped=(("pd", "a module: its import is replayed"),))
    restore = plan_restore(nb, offers=[ckpt], names=["df", "cleaned", "pd", "undefined_thing"])
    why = {o["name"]: (o["how"], o["why"]) for o in restore.to_json()["outcomes"]}
    assert why == {
        "df": ("load", "from a verified checkpoint"),
        "cleaned": ("rerun", "its cells changed since the checkpoint"),
        "pd": ("rerun", "not checkpointed: a module: its import is replayed"),
        "undefined_thing": ("unrestorable", "no cell defines it"),
    }


def test_cells_after_the_checkpoint_that_changed_its_names_run_after_the_load() -> None:
    cells = [*PIPELINE[:6], "predictions = predictions * 2"]  # c6 ran after the checkpoint
    restore = plan_restore(
        nb_of(cells),
        offers=offer([(["model"], 5 * MB), (["predictions"], MB)], upto=6, cells=cells),
        names=["predictions"],
    )
    assert restore.load is not None and restore.load.names == ("predictions",)
    assert ids(restore) == ["c6"] and restore.load.steps[0].at == 0  # load, then the update


def test_a_group_whose_code_was_edited_since_is_stale_and_not_loaded_unless_asked() -> None:
    nb = nb_of()
    nb.cells[3].source = "cleaned = clean(df).head(100)"  # edited after it ran
    ckpt = offer([(["cleaned"], 10 * MB), (["model"], 5 * MB), (["predictions"], MB)])
    restore = plan_restore(nb, offers=ckpt, names=["predictions"])
    # cleaned came from the edited cell; model and predictions were computed from it too
    assert restore.load is None and set(restore.stale) == {"cleaned", "model", "predictions"}
    assert restore.to_json()["stale"] == {"names": list(restore.stale)}
    anyway = plan_restore(nb, offers=ckpt, names=["predictions"], load_stale=True)
    assert anyway.load is not None and "predictions" in anyway.load.names


def test_a_checkpoint_of_another_kernel_process_is_not_used() -> None:
    restore = plan_restore(nb_of(), offers=offer([(["model"], MB)], context="other-context"))
    assert restore.load is None
    assert ids(restore) == ["c0", "c1", "c2", "c3", "c4", "c5"]


def test_the_position_skips_executions_of_other_clients() -> None:
    history = read_history(nb_of())
    kernel_order = [(None, "console run"), ("c0", code_sha(PIPELINE[0])), ("elsewhere", None)]
    kernel_order += [(f"c{i}", code_sha(PIPELINE[i])) for i in (1, 2)]
    ckpt = CheckpointOffer("ck", CONTEXT, tuple(kernel_order), ())
    assert checkpoint_position(history, ckpt) == 3


def test_each_name_loads_from_the_latest_checkpoint_holding_it_cells_between_loads() -> None:
    cells = [*PIPELINE[:6], "model = retrain(model)"]  # c6: 600 s more
    nb = notebook(cells, ORDER, ledger={**{i: {"ms": MS[i]} for i in range(6)}, 6: {"ms": 600_000}})
    manual = offer([(["df"], 800 * MB), (["model"], 5 * MB)], upto=3, cells=cells)[0]
    automatic = replace(offer([(["model"], 5 * MB)], upto=7, cells=cells)[0], checkpoint="auto")
    restore = plan_restore(nb, names=["df", "model"], offers=[automatic, manual])
    assert restore.load is not None
    steps = [(s.checkpoint, s.names, s.position) for s in restore.load.steps]
    assert steps == [("ck-1", ("df",), 3), ("auto", ("model",), 7)]
    assert "c4" not in ids(restore) and "c6" not in ids(restore)  # neither training runs


def test_loaded_names_make_otherwise_unrestorable_names_restorable() -> None:
    cells = ["import random\nseed = random.random()", "del random"]
    nb = notebook(cells, [0, 1], ledger={0: {"ms": 1}, 1: {"ms": 1}})
    nb.cells[0].source = "seed = 4"  # edited: replay would not give the old value
    plain = plan_restore(nb, names=["seed"])
    assert any(w.kind == "edited" for w in plain.plan.warnings)
    ran = (("c0", code_sha(cells[0])), ("c1", code_sha(cells[1])))
    ckpt = [CheckpointOffer("ck", CONTEXT, ran, (CheckpointGroup(("seed",), 100),))]
    loaded = plan_restore(nb, names=["seed"], offers=ckpt, load_stale=True)
    assert loaded.load is not None and loaded.load.names == ("seed",) and ids(loaded) == []


def test_unseeded_randomness_is_loaded_even_when_recomputing_is_faster() -> None:
    cells = ["import numpy as np", "noise = np.random.rand(10)"]
    nb = notebook(cells, [0, 1], ledger={0: {"ms": 100}, 1: {"ms": 1}})
    ran = (("c0", code_sha(cells[0])), ("c1", code_sha(cells[1])))
    ckpt = [CheckpointOffer("ck", CONTEXT, ran, (CheckpointGroup(("noise",), 500 * MB),), 10 * MB)]
    restore = plan_restore(nb, names=["noise"], offers=ckpt)
    assert restore.load is not None and restore.load.names == ("noise",)
    assert not any(w.kind == "unseeded-random" for w in restore.plan.warnings)
