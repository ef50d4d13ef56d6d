"""Warnings attached to a plan: what the user must know before replaying it."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from . import rules
from .effects import Effect
from .history import History
from .plan import PlanWarning


def _label(index: int | None) -> str:
    return f"cell {index + 1}" if index is not None else "a deleted cell"


def history_warnings(
    history: History, effects: Sequence[Effect], planned: Collection[int]
) -> Iterator[PlanWarning]:
    if history.malformed_entries:
        yield PlanWarning(
            "history",
            None,
            f"{history.malformed_entries} history entries are malformed and were ignored",
        )
    runs_of: dict[str, list[int]] = {}
    for effect in effects:
        runs_of.setdefault(effect.execution.cell_id, []).append(effect.execution.position)
    reported: set[str] = set()
    for effect in effects:
        execution = effect.execution
        if execution.cell_id in reported:
            continue
        index = execution.cell_index
        if not execution.replayable:
            reported.add(execution.cell_id)
            gone = "has been deleted" if index is None else "is no longer a code cell"
            yield PlanWarning(
                "deleted",
                index,
                f"a cell that ran (id {execution.cell_id}) {gone}; what it defined or changed "
                "cannot be replayed",
                execution.cell_id,
            )
            continue
        runs = runs_of[execution.cell_id]
        if execution.edited or any(effects[p].execution.edited for p in runs):
            reported.add(execution.cell_id)
            if any(p in planned for p in runs):
                message = (
                    f"{_label(index)} changed since it ran; the plan replays its current code, "
                    "so restored values may differ"
                )
            else:
                message = (
                    f"{_label(index)} changed since it ran; its current code was analysed in "
                    "place of the code that ran"
                )
            yield PlanWarning("edited", index, message, execution.cell_id)
        if effect.analysis.error is not None and execution.cell_id not in reported:
            reported.add(execution.cell_id)
            yield PlanWarning(
                "unparsable",
                index,
                f"{_label(index)} does not parse ({effect.analysis.error}); treated as "
                "defining nothing",
                execution.cell_id,
            )


def _listing(
    effects: Sequence[Effect], pos: int, folders: Collection[str], label: str, cid: Any
) -> PlanWarning | None:
    """A listing of folders that runs after it changed: a replay lists them as they are now,
    with the files those runs left (they cannot be undone)."""
    later: dict[str, None] = {}
    for effect in effects[pos + 1 :]:
        ledger = effect.execution.ledger
        changed = ledger.files_changed if ledger is not None else ()
        if any(rules.in_folder(p, f) for p in changed for f in folders):
            later[_label(effect.execution.cell_index)] = None
    if not later:
        return None
    where = ", ".join(sorted(folders))
    return PlanWarning(
        "listing",
        effects[pos].execution.cell_index,
        f"{label} lists {where}, where later runs ({', '.join(later)}) wrote or removed files; "
        "a replay lists what is there now",
        cid,
    )


def plan_warnings(
    effects: Sequence[Effect],
    order: Sequence[int],
    why: Mapping[int, Any],
    replanned: Collection[str],
) -> Iterator[PlanWarning]:
    seeded: set[str] = set()
    seeded_at: dict[int, frozenset[str]] = {}
    for pos, effect in enumerate(effects):
        seeded_at[pos] = frozenset(seeded)
        seeded |= effect.creates & rules.RNG_STATES

    reported: set[tuple[str, int]] = set()

    def once(kind: str, index: int) -> bool:
        if (kind, index) in reported:
            return False
        reported.add((kind, index))
        return True

    for pos in order:
        effect = effects[pos]
        execution = effect.execution
        index = execution.cell_index
        cid = execution.cell_id
        label = _label(index)
        assert index is not None
        if effect.side_effects and once("side-effect", index):
            details = ", ".join(f"{e.detail} ({e.kind})" for e in effect.side_effects)
            yield PlanWarning(
                "side-effect", index, f"{label} has side effects replay repeats: {details}", cid
            )
        unseeded = [
            f"{n[1:-1]} without a seed"
            for n in effect.reads
            if n in rules.RNG_STATES and n not in seeded_at[pos]
        ] + list(effect.analysis.unseeded_rng)
        if unseeded and once("unseeded-random", index):
            yield PlanWarning(
                "unseeded-random",
                index,
                f"{label} draws random numbers ({', '.join(sorted(unseeded))}); restored "
                "values will differ",
                cid,
            )
        names = sorted(n for n in why[pos].creates | why[pos].touches if not rules.is_pseudo(n))
        if effect.dynamic and not effect.analysis.defines & set(names) and once("dynamic", index):
            yield PlanWarning(
                "dynamic",
                index,
                f"{label} may define names dynamically ({'; '.join(effect.dynamic)}); kept "
                "because nothing else visibly defines what the plan needs",
                cid,
            )
        ledger = execution.ledger
        if ledger is not None and ledger.files_listed and once("listing", index):
            warning = _listing(effects, pos, ledger.files_listed, label, cid)
            if warning is not None:
                yield warning
        if ledger is not None and ledger.status == "error" and once("error", index):
            partial = ", ".join(sorted(effect.creates)) or "nothing"
            yield PlanWarning(
                "error",
                index,
                f"{label} raised an error when it ran (after binding {partial}); replaying it "
                "will likely raise again",
                cid,
            )
    for name in sorted(replanned):
        yield PlanWarning(
            "live",
            None,
            f"{name} is still in the kernel but planned cells change it or need an earlier "
            "value of it, so it is rebuilt too",
        )
