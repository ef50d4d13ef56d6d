"""Render the kernel tracker's variables summary (and ``@name`` details) as compact text.

The summary comes from the in-kernel tracker and crosses a process boundary, so every field is
treated as optional and of unknown type: a malformed entry is shown as far as it can be, never
raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..dataflow.rules import is_kernel_internal
from .clip import ELLIPSIS, clip, one_line
from .secrets import is_secret_name, redact


@dataclass
class RenderedVariables:
    text: str
    shown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    live_names: set[str] = field(default_factory=set)
    complete: bool = False  # live_names lists every variable of the kernel


def _str(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _columns(columns: Any, limit: int, total: int) -> str:
    """``a int64, b object, … (+998 more)`` within about ``limit`` characters.

    ``total`` is the frame's real column count: the tracker sends at most a few hundred.
    """
    if not isinstance(columns, Sequence) or isinstance(columns, str):
        return ""
    total = max(total, len(columns))
    parts: list[str] = []
    size = 0
    for i, col in enumerate(columns):
        if isinstance(col, Mapping):
            text = f"{col.get('name')} {col.get('dtype', '')}".strip()
        else:
            text = _str(col)
        text = one_line(text, 60)
        if size + len(text) + 2 > limit:
            return ", ".join(parts) + f", {ELLIPSIS} (+{total - i} more)"
        parts.append(text)
        size += len(text) + 2
    if total > len(columns):
        return ", ".join(parts) + f", {ELLIPSIS} (+{total - len(columns)} more)"
    return ", ".join(parts)


def _column_count(entry: Mapping[str, Any]) -> int:
    shape = entry.get("shape")
    if isinstance(shape, Sequence) and len(shape) == 2 and isinstance(shape[1], int):
        return shape[1]
    return 0


def describe_variable(entry: Mapping[str, Any], limit: int) -> str:
    """One line for one variable, at most ``limit`` characters, secrets redacted."""
    name = _str(entry.get("name", "?"))
    head = f"- {name}: {one_line(_str(entry.get('type', '?')), 80)}"
    facts: list[str] = []
    shape = entry.get("shape")
    if shape is not None:
        if isinstance(shape, Sequence) and not isinstance(shape, str):
            facts.append("shape (" + ", ".join(_str(s) for s in shape[:8]) + ")")
        else:
            facts.append(f"shape {one_line(_str(shape), 40)}")
    if entry.get("len") is not None and shape is None:
        facts.append(f"len {one_line(_str(entry['len']), 20)}")
    if entry.get("dtype") is not None:
        facts.append(f"dtype {one_line(_str(entry['dtype']), 40)}")
    line = head + (", " + ", ".join(facts) if facts else "")
    if entry.get("columns"):
        cols = _columns(entry["columns"], max(limit - len(line) - 40, 40), _column_count(entry))
        if cols:
            line += f", columns: {cols}"
    if entry.get("error"):
        line += f" (could not be described: {one_line(_str(entry['error']), 80)})"
    rep = entry.get("repr")
    if rep is not None and len(line) < limit - 8:
        line += " = " + one_line(_str(rep), limit - len(line) - 3)
    return one_line(redact(line), limit)


def render_variables(
    summary: Mapping[str, Any] | None,
    *,
    per_variable: int,
    total: int,
    first: Iterable[str] = (),
) -> RenderedVariables:
    """The variables summary as one line per variable within ``total`` characters.

    Names in ``first`` (those the prompt or the latest cells talk about) are listed before the
    rest, so the budget goes to what matters for this request.
    """
    if not summary:
        return RenderedVariables(
            text="(the server could not read the kernel's variables)",
            notes=["no variables summary"],
        )
    entries = summary.get("variables")
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        entries = []
    priority = {name: i for i, name in enumerate(first)}
    usable: list[Mapping[str, Any]] = []
    live: set[str] = set()
    secret = 0
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        if is_kernel_internal(name):
            continue
        # Secret-looking names still count as live for the missing-name guard: only the name
        # is used, on the server, and generated code may well read `api_key`.
        live.add(name)
        if is_secret_name(name):
            secret += 1
            continue
        usable.append(entry)
    # sorted() is stable: unprioritised names keep the tracker's order.
    usable.sort(key=lambda e: priority.get(e["name"], len(priority)))

    lines: list[str] = []
    shown: list[str] = []
    size = 0
    for entry in usable:
        line = describe_variable(entry, per_variable)
        if size + len(line) + 1 > total:
            break
        lines.append(line)
        shown.append(entry["name"])
        size += len(line) + 1

    notes: list[str] = []
    reported_total = summary.get("total")
    known = reported_total if isinstance(reported_total, int) else len(entries)
    left_out = len(usable) - len(shown)
    if left_out:
        notes.append(f"{left_out} variables left out to fit the budget")
    if summary.get("truncated") or known > len(entries):
        notes.append(f"the kernel holds {known} variables; the tracker sent {len(entries)}")
    if secret:
        notes.append(
            f"{secret} variable{'s' if secret > 1 else ''} with secret-looking names not described"
        )
    if not lines:
        text = "(no user variables)" if not usable else "(none fit the budget)"
    else:
        text = "\n".join(lines)
    if notes:
        text += f"\n({'; '.join(notes)}.)"
    complete = not summary.get("truncated") and known <= len(entries)
    return RenderedVariables(
        text=text, shown=shown, notes=notes, live_names=live, complete=complete
    )


def render_details(
    mentions: Sequence[str],
    details: Mapping[str, Any] | None,
    live_names: set[str],
    *,
    per_name: int,
    total: int,
) -> str:
    """Fuller descriptions for the ``@name`` mentions, or why there is none."""
    details = details_by_name(details)
    blocks: list[str] = []
    size = 0
    for name in mentions:
        if is_secret_name(name):
            continue
        detail = details.get(name)
        if detail is not None:
            body = _render_detail(detail, per_name)
        elif name in live_names:
            body = "(no more detail than the summary above)"
        else:
            body = "(not defined in the live kernel)"
        block = clip(f"@{name}:\n{body}", min(per_name, max(total - size, 0)))
        if not block:
            break
        blocks.append(block)
        size += len(block) + 1
    return "\n".join(blocks)


def details_by_name(details: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``details`` as name → detail, whether it is already that or the tracker's answer to
    ``variables(names=..., detail=True)`` (a summary whose entries carry a ``detail`` text)."""
    if not details:
        return {}
    entries = details.get("variables")
    if isinstance(entries, Sequence) and not isinstance(entries, str):
        return {
            e["name"]: e
            for e in entries
            if isinstance(e, Mapping) and isinstance(e.get("name"), str)
        }
    return details


def _render_detail(detail: Any, limit: int) -> str:
    if isinstance(detail, str):
        return redact(clip(detail, limit))
    if isinstance(detail, Mapping) and isinstance(detail.get("detail"), str):
        # A tracker entry: its one-line summary, then the detail text (head, describe, ...).
        head = describe_variable(detail, min(limit, 400))
        return redact(clip(f"{head}\n{detail['detail']}", limit))
    if not isinstance(detail, Mapping):
        return redact(clip(_str(detail), limit))
    lines: list[str] = []
    size = 0
    for key, value in detail.items():
        if key == "name" or (isinstance(key, str) and is_secret_name(key)):
            continue
        if isinstance(value, str):
            text = clip(value, limit // 2)
        else:
            text = clip(json.dumps(value, default=str), limit // 2)
        line = f"{key}: {text}" if "\n" not in text else f"{key}:\n{text}"
        lines.append(line)
        size += len(line)
        if size > limit:
            break
    return redact(clip("\n".join(lines), limit))
