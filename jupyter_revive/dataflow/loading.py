"""Restore plans that load a checkpoint: which groups to load, which cells still run, how long.

A checkpoint holds, per group of names, their values at one point of the kernel's execution
history (its *position*). Loading a group makes its names present there; the planner then only
replays what changed them after that point, and what other names need. Per group the choice is
load or recompute, by estimated time: a group's load time from its size and the checkpoint's
measured write speed, a cell's time from its run record. A group is *stale* when the code its
values came from (the executions producing them, and what those read) changed or is gone since;
it is never loaded unless asked (``load_stale``). Recomputing a group is also refused when that
adds replays that cannot give the old values back (unseeded randomness, side effects).

Pure: no kernel, server or file access; the server turns manifests into ``CheckpointOffer``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..contract import cell_id, is_code_cell, notebook_cells
from .effects import Effect, resolve
from .history import History, read_history
from .plan import Plan
from .planner import plan_history, producers

DEFAULT_CELL_S = 1.0  # a cell without a recorded duration
DEFAULT_BYTES_PER_S = 200e6  # when a checkpoint measured no write speed
LOAD_OVERHEAD_S = 0.05  # per group: open, hash, unpickle call
MAX_CHOICES = 50  # groups weighed one by one; beyond that they are loaded
_UNREPEATABLE = ("unseeded-random", "side-effect")


@dataclass(frozen=True)
class CheckpointGroup:
    names: tuple[str, ...]
    bytes: int


@dataclass(frozen=True)
class CheckpointOffer:
    """A verified checkpoint as the planner sees it."""

    checkpoint: str
    context: str | None
    executions: tuple[tuple[str | None, str | None], ...]  # (cell id, code sha), kernel order
    groups: tuple[CheckpointGroup, ...]
    bytes_per_s: float = DEFAULT_BYTES_PER_S
    skipped: tuple[tuple[str, str], ...] = ()  # (name, why it was not saved)


@dataclass(frozen=True)
class LoadStep:
    checkpoint: str
    names: tuple[str, ...]
    position: int  # the history position the loaded values belong to
    at: int  # how many of the plan's cells run before this load

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "names": list(self.names),
            "position": self.position,
            "at": self.at,
        }


@dataclass(frozen=True)
class Load:
    steps: tuple[LoadStep, ...]  # in plan order (by ``at``)
    estimate_s: float

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(n for step in self.steps for n in step.names))

    def to_json(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "steps": [step.to_json() for step in self.steps],
            "estimate_s": round(self.estimate_s, 3),
        }


@dataclass(frozen=True)
class NameOutcome:
    """What a restore does for one name: ``load``, ``rerun`` or ``unrestorable``, and why."""

    name: str
    how: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "how": self.how, "why": self.why}


@dataclass(frozen=True)
class RestorePlan:
    plan: Plan
    load: Load | None
    restore_s: float
    rerun_all_s: float
    stale: tuple[str, ...] = ()  # checkpointed names not loaded: their code changed since
    outcomes: tuple[NameOutcome, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.plan.to_json(),
            "load": None if self.load is None else self.load.to_json(),
            "stale": {"names": list(self.stale)} if self.stale else None,
            "outcomes": [o.to_json() for o in self.outcomes],
            "estimate_s": {
                "restore": round(self.restore_s, 3),
                "rerun_all": round(self.rerun_all_s, 3),
            },
        }


@dataclass(frozen=True)
class _Candidate:
    group: CheckpointGroup
    offer: CheckpointOffer
    position: int

    @property
    def load_s(self) -> float:
        return self.group.bytes / max(self.offer.bytes_per_s, 1.0) + LOAD_OVERHEAD_S


def checkpoint_position(history: History, offer: CheckpointOffer) -> int | None:
    """How many of the history's executions the checkpoint's values come after, or None when
    it belongs to another kernel process. The notebook's history is a subsequence of the
    kernel's executions (other clients' runs are only in the kernel's)."""
    if offer.context is None or offer.context != history.context:
        return None
    executions = history.executions
    j = 0
    for cell, code in offer.executions:
        if j == len(executions):
            break
        entry = executions[j]
        if cell == entry.cell_id and (code is None or entry.recorded_sha in (None, code)):
            j += 1
    return j


class _Costs:
    def __init__(self, history: History) -> None:
        self.by_cell: dict[str, float] = {}
        for e in history.executions:
            if e.ledger is not None and e.ledger.ms is not None:
                self.by_cell[e.cell_id] = e.ledger.ms / 1000.0

    def cell_s(self, cell_id: str) -> float:
        return self.by_cell.get(cell_id, DEFAULT_CELL_S)


def _rerun_all_s(nb: Mapping[str, Any], costs: _Costs) -> float:
    """Restart and run all: every code cell once, in document order."""
    cells = notebook_cells(nb)
    return sum(costs.cell_s(cell_id(c, i)) for i, c in enumerate(cells) if is_code_cell(c))


def _stale(effects: Sequence[Effect], group: CheckpointGroup, position: int) -> bool:
    for pos in producers(effects, group.names, position):
        execution = effects[pos].execution
        if not execution.replayable or execution.edited:
            return True
    return False


def _valid_from(effects: Sequence[Effect], names: Collection[str], position: int) -> int:
    """The earliest history position from which ``names`` already held the values they had at
    ``position``: right after the last execution before it that bound or changed one. A load
    can happen there, before cells that read them (a checkpoint taken a few cells after the
    cell that made them)."""
    wanted = set(names)
    for pos in range(min(position, len(effects)) - 1, -1, -1):
        effect = effects[pos]
        if wanted & (effect.kills | effect.touches | effect.maybe_binds):
            return pos + 1
    return 0


def _candidates(
    history: History,
    effects: Sequence[Effect],
    offers: Sequence[CheckpointOffer],
    live: set[str],
) -> list[_Candidate]:
    """Groups of the offers, each name from the checkpoint of the latest position holding it
    (offers newest first break ties); a group sharing names with a later one is dropped.
    Each group's position is the earliest from which its values were the checkpoint's."""
    found = []
    for order, offer in enumerate(offers):
        position = checkpoint_position(history, offer)
        if position is not None:
            found.append((position, -order, offer))
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    claimed: set[str] = set()
    out = []
    for position, _, offer in found:
        for group in offer.groups:
            names = set(group.names)
            if names & claimed or names <= live:
                continue
            claimed |= names
            out.append(_Candidate(group, offer, _valid_from(effects, names, position)))
    return out


def _outcomes(
    plan: Plan,
    load: Load | None,
    offers: Sequence[CheckpointOffer],
    candidates: Collection[_Candidate],
    stale: Collection[str],
) -> tuple[NameOutcome, ...]:
    """Per lost name, loaded or re-run and why, or why it cannot be restored."""
    loaded = set(load.names) if load else set()
    weighed = {n for c in candidates for n in c.group.names}
    skipped: dict[str, str] = {}
    for offer in offers:
        for name, why in offer.skipped:
            skipped.setdefault(name, why)
    out = []
    for name in plan.names:  # the plan's order: the products first
        if name in loaded:
            out.append(NameOutcome(name, "load", "from a verified checkpoint"))
        elif name in stale:
            why = "its cells changed since the checkpoint"
            out.append(NameOutcome(name, "rerun", why))
        elif name in weighed:
            out.append(NameOutcome(name, "rerun", "re-running is faster than loading"))
        elif name in skipped:
            out.append(NameOutcome(name, "rerun", f"not checkpointed: {skipped[name]}"))
        else:
            why = "no checkpoint holds it" if offers else "no checkpoint"
            out.append(NameOutcome(name, "rerun", why))
    for name in sorted(plan.unrestorable):
        out.append(NameOutcome(name, "unrestorable", "no cell defines it"))
    return tuple(out)


def plan_restore(
    nb: Mapping[str, Any],
    names: Sequence[str] | None = None,
    live_names: Collection[str] = (),
    offers: Sequence[CheckpointOffer] = (),
    load_stale: bool = False,
) -> RestorePlan:
    """The restore plan of ``nb``, loading what of ``offers`` (verified checkpoints of its
    kernel context, newest first) makes it fastest."""
    history = read_history(nb)
    effects = resolve(history)
    costs = _Costs(history)
    rerun_all = _rerun_all_s(nb, costs)
    live = set(live_names)

    def cells_s(plan: Plan) -> float:
        return sum(costs.cell_s(c.cell_id) for c in plan.cells)

    base = plan_history(history, names, live, effects=effects)
    base_s = cells_s(base)
    usable: list[_Candidate] = []
    forced: list[_Candidate] = []  # stale, and loaded anyway as asked
    stale: list[str] = []
    candidates = _candidates(history, effects, offers, live)
    for candidate in candidates:
        if not _stale(effects, candidate.group, candidate.position):
            usable.append(candidate)
        elif load_stale:
            forced.append(candidate)
        else:
            stale += candidate.group.names
    stale_names = tuple(sorted(stale))

    def restore(plan: Plan, load: Load | None, restore_s: float) -> RestorePlan:
        outcomes = _outcomes(plan, load, offers, candidates, stale_names)
        return RestorePlan(plan, load, restore_s, rerun_all, stale_names, outcomes)

    if not usable and not forced:
        return restore(base, None, base_s)

    def evaluate(chosen: Collection[_Candidate]) -> tuple[float, Plan, int]:
        loaded = {n: c.position for c in chosen for n in c.group.names if n not in live}
        plan = plan_history(history, names, live, loaded=loaded, effects=effects)
        unrepeatable = sum(w.kind in _UNREPEATABLE for w in plan.warnings)
        return sum(c.load_s for c in chosen) + cells_s(plan), plan, unrepeatable

    chosen = forced + usable
    best_s, best, best_unrepeatable = evaluate(chosen)
    # Weigh the biggest groups first: dropping them saves the most load time.
    for candidate in sorted(usable, key=lambda c: -c.group.bytes)[:MAX_CHOICES]:
        trial = [c for c in chosen if c is not candidate]
        trial_s, plan, unrepeatable = evaluate(trial)
        if trial_s < best_s and unrepeatable <= best_unrepeatable:
            chosen, best_s, best, best_unrepeatable = trial, trial_s, plan, unrepeatable

    base_unrepeatable = sum(w.kind in _UNREPEATABLE for w in base.warnings)
    # Load when it is faster, or spares replays that cannot give the old values back, or asked.
    better = best_s < base_s or best_unrepeatable < base_unrepeatable
    if not chosen or not (better or forced):
        return restore(base, None, base_s)
    # One load per checkpoint and place between the cells; its position: the latest history
    # position whose values it gives (no planned cell runs between the groups' positions).
    by_step: dict[tuple[int, str], tuple[int, list[str]]] = {}
    for c in chosen:
        at = sum(1 for cell in best.cells if cell.history_position < c.position)
        position, step_names = by_step.get((at, c.offer.checkpoint), (0, []))
        step_names += [n for n in c.group.names if n not in live]
        by_step[(at, c.offer.checkpoint)] = (max(position, c.position), step_names)
    steps = sorted(
        (
            LoadStep(checkpoint, tuple(sorted(step_names)), position, at)
            for (at, checkpoint), (position, step_names) in by_step.items()
        ),
        key=lambda step: (step.at, step.position, step.checkpoint),
    )
    load = Load(tuple(steps), sum(c.load_s for c in chosen))
    return restore(best, load, best_s)
