"""Restore planner: the minimal ordered executions that rebuild target names with their values.

For a name needed just before history position p: the last execution before p that surely binds
it (its creator) and every later execution before p that touches it (mutates, maybe-binds), in
history order; then, transitively, the same for everything those executions read at their own
positions. Executions nothing needs are left out, so overwritten definitions and display-only
cells never appear.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import rules
from .diagnostics import history_warnings, plan_warnings
from .effects import Effect, resolve
from .history import History, read_history
from .plan import Plan, PlannedCell, PlanWarning
from .records import FunctionInfo


@dataclass
class _Why:
    creates: set[str] = field(default_factory=set)
    touches: set[str] = field(default_factory=set)
    removes: set[str] = field(default_factory=set)
    dynamic: set[str] = field(default_factory=set)  # may define them in ways we cannot see
    consumers: set[int] = field(default_factory=set)  # history positions that read its result


class _Chains:
    def __init__(self, effects: Sequence[Effect], loaded: Mapping[str, int] | None = None) -> None:
        self.effects = effects
        # name -> history position at which a checkpoint load provides its value
        self.loaded = dict(loaded or {})
        self.events: dict[str, list[int]] = {}
        for pos, effect in enumerate(effects):
            for name in effect.kills | effect.touches:
                self.events.setdefault(name, []).append(pos)
        self.dynamic = [pos for pos, e in enumerate(effects) if e.dynamic]

    def chain(self, name: str, pos: int) -> tuple[list[int], bool]:
        """Positions producing `name`'s value just before `pos`, and whether anything binds it."""
        events = self.events.get(name, [])
        out: list[int] = []
        bound = False
        floor = -1
        start = self.loaded.get(name)
        for i in reversed(events[: bisect_left(events, pos)]):
            if start is not None and pos >= start > i:
                return out, True  # the load gives its value as of `start`
            effect = self.effects[i]
            if name in effect.removes:
                floor = i
                if out:
                    # only maybe-bound since this deletion: replay the deletion too, or the
                    # name could survive from an earlier planned cell
                    out.append(i)
                break
            out.append(i)
            if name in effect.creates:
                return out, True
            bound = bound or name in effect.maybe_binds
        if start is not None and pos >= start:
            return out, True  # nothing touched it between the load and `pos`
        # Nothing visibly binds it: cells that bind names dynamically may have. Builtins and
        # hidden state are assumed not to come from them (else every `print` after an `exec`
        # would pull the `exec` in).
        if not bound and not rules.is_pseudo(name) and name not in rules.BUILTIN_NAMES:
            fallback = [i for i in self.dynamic if floor < i < pos]
            if fallback:
                return sorted({*out, *fallback}, reverse=True), True
        return out, bound

    def changed_after(self, name: str, pos: int) -> bool:
        events = self.events.get(name, [])
        return bool(events) and events[-1] > pos


def _live_at_end(effects: Sequence[Effect]) -> set[str]:
    live: set[str] = set()
    for effect in effects:
        live -= effect.removes
        live |= effect.binds
    return {n for n in live if not rules.is_pseudo(n) and not rules.is_kernel_internal(n)}


def _functions_at_end(effects: Sequence[Effect]) -> dict[str, FunctionInfo]:
    env: dict[str, FunctionInfo] = {}
    for effect in effects:
        for name in effect.kills:
            env.pop(name, None)
        for info in effect.analysis.functions:
            if info.name in effect.binds:
                env[info.name] = info
    return env


def _with_function_globals(
    targets: set[str], effects: Sequence[Effect], live: set[str]
) -> set[str]:
    """A restored function is only usable with the globals its body reads."""
    env = _functions_at_end(effects)
    out = set(targets)
    todo = [t for t in targets if t in env]
    while todo:
        info = env[todo.pop()]
        for name in (info.global_reads | info.calls) & live:
            if name not in out:
                out.add(name)
                if name in env:
                    todo.append(name)
    return out


class _Planner:
    def __init__(self, effects: Sequence[Effect], loaded: Mapping[str, int] | None = None) -> None:
        self.effects = effects
        self.chains = _Chains(effects, loaded)

    def run(
        self,
        targets: Collection[str],
        live: Collection[str] = (),
        at: int | None = None,
        replayable_only: bool = True,
    ) -> tuple[dict[int, _Why], set[str]]:
        """Executions producing ``targets`` as they were just before position ``at`` (default:
        the end), with what they read; and the targets nothing binds."""
        end = len(self.effects) if at is None else at
        why: dict[int, _Why] = {}
        missing: set[str] = set()
        memo: dict[tuple[str, int], list[int]] = {}
        queue: deque[tuple[str, int]] = deque((t, end) for t in targets)
        while queue:
            name, pos = queue.popleft()
            key = (name, pos)
            if key in memo:
                chain = memo[key]
                fresh = False
            else:
                chain, bound = self.chains.chain(name, pos)
                memo[key] = chain
                fresh = True
                if pos == end and not bound:
                    missing.add(name)
            for i in chain:
                entry = why.setdefault(i, _Why())
                effect = self.effects[i]
                if name in effect.creates:
                    entry.creates.add(name)
                elif name in effect.removes:
                    entry.removes.add(name)
                elif name in effect.touches:
                    entry.touches.add(name)
                elif effect.dynamic:
                    entry.dynamic.add(name)
                if pos < end:
                    entry.consumers.add(pos)
            if fresh:
                for i in chain:
                    if not self.effects[i].execution.replayable:
                        continue
                    for read in self.effects[i].reads:
                        # the kernel still holds it, with the value this execution saw
                        kept = read in live and not self.chains.changed_after(read, i)
                        if (read, i) not in memo and not kept:
                            queue.append((read, i))
        if replayable_only:
            # a chain may reach executions that cannot be replayed (deleted cells)
            why = {i: w for i, w in why.items() if self.effects[i].execution.replayable}
        return why, missing

    def touched_live(self, positions: Collection[int], live: Collection[str]) -> set[str]:
        """Live names that replaying `positions` would change or needs earlier values of."""
        out: set[str] = set()
        for i in positions:
            effect = self.effects[i]
            for name in live:
                changes = name in effect.kills or name in effect.touches
                if changes or (name in effect.reads and self.chains.changed_after(name, i)):
                    out.add(name)
        return out


def producers(effects: Sequence[Effect], names: Collection[str], at: int) -> list[int]:
    """History positions whose executions made the values ``names`` held just before ``at``,
    and the executions those read from, deleted cells included: the code a value came from."""
    why, _ = _Planner(effects).run(names, at=at, replayable_only=False)
    return sorted(why)


def dependencies(effects: Sequence[Effect]) -> list[tuple[int, int, str]]:
    """``(producer, consumer, name)`` for every value an execution read: the history positions
    whose executions made the value of ``name`` that the execution at ``consumer`` saw."""
    chains = _Chains(effects)
    out = []
    for pos, effect in enumerate(effects):
        for name in sorted(effect.reads):
            for producer in sorted(chains.chain(name, pos)[0]):
                out.append((producer, pos, name))
    return out


def makers(effects: Sequence[Effect], names: Collection[str], at: int) -> set[int]:
    """History positions whose executions directly made the values ``names`` held just
    before ``at`` (not what those read)."""
    chains = _Chains(effects)
    return {i for name in names for i in chains.chain(name, at)[0]}


def _cell_label(effects: Sequence[Effect], pos: int) -> str:
    index = effects[pos].execution.cell_index
    return f"cell {index + 1}" if index is not None else "a deleted cell"


def _reason(effects: Sequence[Effect], pos: int, why: _Why) -> str:
    parts = []
    creates = sorted(n for n in why.creates if not rules.is_pseudo(n))
    touches = sorted(n for n in why.touches if not rules.is_pseudo(n))
    if creates:
        parts.append("defines " + ", ".join(creates))
    if touches:
        parts.append("updates " + ", ".join(touches))
    if why.removes:
        parts.append("deletes " + ", ".join(sorted(why.removes)))
    if why.dynamic:
        parts.append("may define " + ", ".join(sorted(why.dynamic)) + " dynamically")
    if (why.touches | why.creates) & rules.RNG_STATES:
        parts.append("advances the random state")
    if rules.CWD in why.touches | why.creates:
        parts.append("changes the working directory")
    if rules.SYS_PATH in why.touches | why.creates:
        parts.append("changes sys.path")
    outside = sorted(filter(None, map(rules.describe_state, why.touches | why.creates)))
    if outside:
        parts.append(rules.shortened(outside))
    own = effects[pos].execution.cell_index
    labels = {
        "its next run" if effects[c].execution.cell_index == own else _cell_label(effects, c): c
        for c in why.consumers
    }
    if labels:
        parts.append("read by " + ", ".join(sorted(labels, key=labels.__getitem__)))
    return "; ".join(parts) or "needed by the plan"


def plan_history(
    history: History,
    names: Sequence[str] | None = None,
    live_names: Collection[str] = (),
    loaded: Mapping[str, int] | None = None,
    effects: Sequence[Effect] | None = None,
) -> Plan:
    """The plan; ``loaded``: names a checkpoint load provides, each with the history position
    whose value it holds (the load runs between the planned cells before and after it)."""
    effects = resolve(history) if effects is None else effects
    planner = _Planner(effects, loaded)
    live_at_end = _live_at_end(effects)
    live = set(live_names)
    requested = set(live_at_end if names is None else names)
    if names is not None:
        requested = _with_function_globals(requested, effects, live_at_end) | set(names)
    targets = requested - live

    replanned: set[str] = set()
    while True:
        why, missing = planner.run(targets, live - targets)
        extra = planner.touched_live(why.keys(), live - targets)
        if not extra:
            break
        replanned |= extra
        targets |= extra

    order = sorted(why)
    runs: dict[int, int] = {}
    for pos in order:
        index = effects[pos].execution.cell_index
        assert index is not None
        runs[index] = runs.get(index, 0) + 1
    seen: dict[int, int] = {}
    cells = []
    for pos in order:
        execution = effects[pos].execution
        assert execution.cell_index is not None
        reason = _reason(effects, pos, why[pos])
        total = runs[execution.cell_index]
        if total > 1:
            seen[execution.cell_index] = seen.get(execution.cell_index, 0) + 1
            reason += f" (run {seen[execution.cell_index]} of {total})"
        cells.append(PlannedCell(execution.cell_index, execution.cell_id, reason, pos))

    warnings: list[PlanWarning] = [*history_warnings(history, effects, set(order))]
    warnings += plan_warnings(effects, order, why, replanned)
    ordered, kinds = _display_order(targets - missing, effects)
    return Plan(
        cells=tuple(cells),
        names=ordered,
        kinds=kinds,
        unrestorable=tuple(sorted(missing)),
        warnings=tuple(warnings),
        history_source=history.source,
    )


# How a lost name reads in the banner: data first, then what the notebook defines, then what it
# imports; loop variables and `with ... as` targets last.
_KIND_RANK = {"data": 0, "function": 1, "class": 1, "import": 2, "module": 3, "temporary": 4}
_UNKNOWN_MS = 1.0  # a cell without a recorded duration, when weighing names
_CHEAP_MS = 100.0  # chains faster than this weigh the same: their order is by depth


def _cost_class(ms: float) -> int:
    """Recorded time in classes a factor of 2 apart, so that noise in the durations of cheap
    cells does not reorder names: 0 below ``_CHEAP_MS``."""
    return 0 if ms < _CHEAP_MS else 1 + int(math.log2(ms / _CHEAP_MS))


def _display_order(
    names: set[str], effects: Sequence[Effect]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Names as a person would want them named, and the kind of each that is not plain data.

    Data first, the pipeline's products before its inputs: by the recorded time on the longest
    chain of executions behind the name (in classes a factor of 2 apart), then by the length of
    that chain, then in the order the history first made them. The banner shows the first ones that
    fit ("predictions, model (+2, 3 modules)"). The whole history decides, not only the
    planned runs: a name loaded from a checkpoint matters as much as one re-run.
    """
    rank: dict[str, int] = {}
    kind: dict[str, str] = {}
    weight: dict[str, tuple[int, int]] = {}
    # One forward pass (no chains: this runs for every plan, and a loading plan is planned
    # many times): (time, depth) of the chain behind each name's latest maker so far.
    behind: dict[str, tuple[float, int]] = {}
    for pos, effect in enumerate(effects):
        ledger = effect.execution.ledger
        own = ledger.ms if ledger is not None and ledger.ms is not None else _UNKNOWN_MS
        inputs = [behind[r] for r in effect.reads if r in behind]
        cost = own + max((c for c, _ in inputs), default=0.0)
        depth = 1 + max((d for _, d in inputs), default=0)
        kinds = dict(effect.analysis.kinds)
        for name in effect.creates | effect.touches | effect.maybe_binds:
            made = (cost, depth)
            behind[name] = made if name in effect.creates else max(behind.get(name, made), made)
            if name not in names:
                continue
            rank.setdefault(name, pos)
            if name in effect.creates or name in effect.maybe_binds:
                kind[name] = kinds.get(name, "data")
            weight[name] = max(weight.get(name, (0, 0)), (_cost_class(cost), depth))
        for name in effect.removes:
            behind.pop(name, None)

    def key(name: str) -> tuple[int, int, int, int, str]:
        what = kind.get(name, "data")
        cls, chain = weight.get(name, (0, 0))
        return (_KIND_RANK.get(what, 0), -cls, -chain, rank.get(name, len(effects)), name)

    ordered = tuple(sorted(names, key=key))
    return ordered, {n: kind[n] for n in ordered if kind.get(n, "data") != "data"}


def plan_notebook(
    nb: Mapping[str, Any],
    names: Sequence[str] | None = None,
    live_names: Collection[str] = (),
) -> Plan:
    """Plan the restore of `names` (default: every name live in the recorded context).

    `nb` is an nbformat v4 notebook (a `NotebookNode` or its plain-dict JSON); `live_names` are
    names the live kernel still holds, which are not rebuilt unless planned cells would change
    them.
    """
    return plan_history(read_history(nb), names, live_names)
