"""The notebook's executions as a graph: nodes in run order, edges for the values between them.

Drawn from the same analysis the planner uses (``effects.resolve`` and the planner's chains):
an edge goes from the execution that made a value to each execution that read it, for names,
files the notebook wrote and read back, and environment or option changes. With a restore
plan, each node also says what a restore does with it.

Pure: the server adds the kernel's context and the restore plan; the CLI renders JSON or DOT.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import rules
from .effects import Effect, resolve
from .history import History, read_history
from .loading import RestorePlan
from .planner import dependencies, makers

NodeState = Literal["live", "lost", "rerun", "load", "recorded"]
EdgeKind = Literal["name", "file", "env", "state"]
LABEL_CHARS = 60


@dataclass(frozen=True)
class Node:
    id: str
    position: int  # in the run order
    cell_id: str
    cell: int | None  # position in the notebook; None when the cell is gone
    label: str  # the first line of its code
    state: NodeState
    edited: bool
    failed: bool
    ms: float | None
    defines: tuple[str, ...]
    effects: tuple[str, ...]  # files written, environment and options set

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "position": self.position,
            "cell_id": self.cell_id,
            "cell": self.cell,
            "label": self.label,
            "state": self.state,
            "edited": self.edited,
            "deleted": self.cell is None,
            "failed": self.failed,
            "ms": self.ms,
            "defines": list(self.defines),
            "effects": list(self.effects),
        }


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    names: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "names": list(self.names),
        }


@dataclass(frozen=True)
class Graph:
    context: str | None
    state: Literal["live", "lost", "unknown"]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "state": self.state,
            "nodes": [n.to_json() for n in self.nodes],
            "edges": [e.to_json() for e in self.edges],
        }

    def to_dot(self) -> str:
        """Graphviz DOT, for people who render it elsewhere."""
        fill = {
            "live": "#c8e6c9",
            "lost": "#eeeeee",
            "rerun": "#bbdefb",
            "load": "#d1c4e9",
            "recorded": "#ffffff",
        }
        lines = ["digraph notebook {", "  rankdir=TB;", '  node [shape=box, style="filled"];']
        for n in self.nodes:
            where = f"cell {n.cell + 1}" if n.cell is not None else "deleted cell"
            notes = [n.state] + [w for w, on in (("edited", n.edited), ("failed", n.failed)) if on]
            # a newline, which json.dumps writes as \n: a line break in DOT
            label = f"{where} ({', '.join(notes)})\n{n.label}"
            style = ', style="filled,dashed"' if n.cell is None or n.edited else ""
            lines.append(
                f"  {n.id} [label={_quote(label)}, fillcolor={_quote(fill[n.state])}{style}];"
            )
        for e in self.edges:
            shown = ", ".join(e.names[:3]) + (f" +{len(e.names) - 3}" if len(e.names) > 3 else "")
            style = "" if e.kind == "name" else ", style=dashed"
            lines.append(f"  {e.source} -> {e.target} [label={_quote(shown)}{style}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text)  # a DOT string: double quotes, backslash escapes


def display_name(name: str) -> tuple[EdgeKind, str]:
    """What an edge carries, as a person reads it: a name, a file path, ``$VAR``, an option."""
    if name.startswith(rules.FILE_PREFIX):
        return "file", name[len(rules.FILE_PREFIX) : -1]
    if name.startswith(rules.ENV_PREFIX):
        return "env", "$" + name[len(rules.ENV_PREFIX) : -1]
    if name.startswith(rules.OPTION_PREFIX):
        return "env", name[len(rules.OPTION_PREFIX) : -1]
    if name.startswith(rules.PATCH_PREFIX):
        return "state", name[len(rules.PATCH_PREFIX) : -1] + " (patched)"
    if rules.is_pseudo(name):
        return "state", name.strip("<>")
    return "name", name


def _label(source: str | None) -> str:
    if source is None:
        return ""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"


def _states(
    effects: Sequence[Effect], live: bool | None, restore: RestorePlan | None
) -> list[NodeState]:
    if live is None:
        return ["recorded"] * len(effects)
    if live:
        return ["live"] * len(effects)
    states: list[NodeState] = ["lost"] * len(effects)
    if restore is not None:
        for step in restore.load.steps if restore.load else ():
            for pos in makers(effects, step.names, step.position):
                states[pos] = "load"
        for cell in restore.plan.cells:
            states[cell.history_position] = "rerun"
    return states


def build_graph(
    nb: Mapping[str, Any],
    live: bool | None = None,
    restore: RestorePlan | None = None,
    history: History | None = None,
) -> Graph:
    """The graph of ``nb``'s recorded executions. ``live``: whether the kernel holds the
    recorded state (None: unknown, as for the CLI); ``restore``: the plan to highlight."""
    history = read_history(nb) if history is None else history
    effects = resolve(history)
    states = _states(effects, live, restore)
    nodes = []
    for pos, effect in enumerate(effects):
        execution = effect.execution
        ledger = execution.ledger
        defines = sorted(n for n in effect.creates | effect.maybe_binds if not rules.is_pseudo(n))
        changed = sorted(
            display_name(n)[1] for n in effect.creates | effect.touches if rules.is_pseudo(n)
        )
        nodes.append(
            Node(
                id=f"e{pos}",
                position=pos,
                cell_id=str(execution.cell_id),
                cell=execution.cell_index,
                label=_label(execution.source),
                state=states[pos],
                edited=execution.edited,
                failed=ledger is not None and ledger.status == "error",
                ms=None if ledger is None else ledger.ms,
                defines=tuple(defines),
                effects=tuple(changed),
            )
        )
    grouped: dict[tuple[int, int, EdgeKind], list[str]] = {}
    for producer, consumer, name in dependencies(effects):
        if producer == consumer:
            continue
        kind, shown = display_name(name)
        grouped.setdefault((producer, consumer, kind), []).append(shown)
    edges = tuple(
        Edge(f"e{p}", f"e{c}", kind, tuple(sorted(set(names))))
        for (p, c, kind), names in sorted(grouped.items())
    )
    state: Literal["live", "lost", "unknown"] = (
        "unknown" if live is None else "live" if live else "lost"
    )
    return Graph(history.context, state, tuple(nodes), edges)
