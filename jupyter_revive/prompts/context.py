"""The context builder: live variables, earlier cells, last error and prompt → system + messages.

No tornado and no kernel access here: ``Generation`` (generation.py) fetches the variables
summary (and ``@name`` details) from the kernel and passes plain dicts in, so this stays a pure,
fast function of its inputs that unit tests can drive directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from traitlets import Float, Int, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable

from ..contract import cell_source, notebook_context
from .cells import execution_order, render_cells, render_last_error
from .clip import clip
from .mentions import extract_mentions
from .secrets import redact
from .templates import load_template
from .variables import render_details, render_variables

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class PromptContext:
    """What to send to the Messages API, plus facts about what went into it."""

    system: str
    messages: list[dict[str, Any]]
    mentions: list[str] = field(default_factory=list)
    variables_shown: list[str] = field(default_factory=list)
    live_names: frozenset[str] = frozenset()  # every variable name the summary listed
    live_names_complete: bool = False  # False: the summary was cut, confirm a "missing" name
    cells_shown: int = 0
    cells_omitted: int = 0
    order: str = "document"
    notes: list[str] = field(default_factory=list)
    chars: int = 0
    tokens_estimate: int = 0

    def stats(self) -> dict[str, Any]:
        """JSON-able facts for logs and provenance (never the context text itself)."""
        return {
            "mentions": self.mentions,
            "variables_shown": len(self.variables_shown),
            "cells_shown": self.cells_shown,
            "cells_omitted": self.cells_omitted,
            "order": self.order,
            "notes": self.notes,
            "chars": self.chars,
            "tokens_estimate": self.tokens_estimate,
        }


class ReviveContextBuilder(LoggingConfigurable):
    """Builds the Anthropic ``system`` prompt and ``messages`` for one prompt cell."""

    templates_dir = Unicode(
        None,
        allow_none=True,
        config=True,
        help=(
            "Directory with replacement prompt templates (system.txt, context.txt, details.txt; "
            "string.Template syntax). A file missing there falls back to the packaged one. "
            "None uses the packaged templates."
        ),
    )
    max_chars = Int(
        40_000,
        config=True,
        help="Upper bound, in characters, of the user message (context plus prompt).",
    )
    max_tokens = Int(
        None,
        allow_none=True,
        config=True,
        help=(
            "Optional bound in (estimated) tokens of the user message; the tighter of this and "
            "max_chars applies. None: only max_chars."
        ),
    )
    chars_per_token = Float(
        3.5,
        config=True,
        help="Characters per token used to estimate token counts (code averages about 3-4).",
    )
    prompt_chars = Int(8_000, config=True, help="Characters kept of the prompt text itself.")
    variables_chars = Int(8_000, config=True, help="Characters for the whole variables summary.")
    variable_chars = Int(
        400, config=True, help="Characters for one variable's line in the summary."
    )
    details_chars = Int(9_000, config=True, help="Characters for all @name details together.")
    detail_chars = Int(
        4_500,
        config=True,
        help="Characters for one @name detail (the tracker sends at most 4 KB of detail text).",
    )
    error_chars = Int(2_500, config=True, help="Characters for the last error and its traceback.")
    cell_chars = Int(3_000, config=True, help="Characters of source shown per earlier cell.")
    output_chars = Int(600, config=True, help="Characters of output shown per earlier cell.")

    @validate(
        "max_chars",
        "prompt_chars",
        "variables_chars",
        "variable_chars",
        "details_chars",
        "detail_chars",
        "error_chars",
        "cell_chars",
        "output_chars",
    )
    def _non_negative(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise TraitError(f"{proposal['trait'].name} must be >= 0")
        value: int = proposal["value"]
        return value

    @property
    def budget(self) -> int:
        """The effective bound, in characters, of the user message."""
        if self.max_tokens is None:
            return self.max_chars
        return min(self.max_chars, int(self.max_tokens * self.chars_per_token))

    def system_prompt(self) -> str:
        return load_template("system.txt", self.templates_dir).safe_substitute().strip()

    def build(
        self,
        prompt: str,
        notebook: Mapping[str, Any],
        *,
        cell_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> PromptContext:
        """The request for ``prompt`` written in the prompt cell ``cell_id`` of ``notebook``.

        ``variables`` is the tracker's summary of the live kernel (None if it could not be read);
        ``details`` is the tracker's answer for the ``@name`` mentions (``variables(names=
        mentions, detail=True)``), or a mapping of name to detail (text or dict).
        """
        context_template = load_template("context.txt", self.templates_dir)
        details_template = load_template("details.txt", self.templates_dir)
        budget = self.budget
        skeleton = len(
            context_template.safe_substitute(
                variables="", cells="", error="", details="", prompt=""
            )
        )
        left = max(budget - skeleton, 0)

        # Spend the budget in order of importance: the request, what the kernel holds, the
        # variables the user asked about, the last error, then as much history as remains.
        prompt_text = redact(clip(prompt.strip(), min(self.prompt_chars, left)))
        left -= len(prompt_text)

        mentions = extract_mentions(prompt)
        runs, order = execution_order(notebook, cell_id)
        first = list(mentions) + _identifiers(prompt) + _recent_identifiers(runs)
        rendered_vars = render_variables(
            variables,
            per_variable=self.variable_chars,
            total=min(self.variables_chars, left),
            first=first,
        )
        left -= len(rendered_vars.text)

        details_text = ""
        if mentions:
            body = render_details(
                mentions,
                details,
                rendered_vars.live_names,
                per_name=self.detail_chars,
                total=max(min(self.details_chars, left) - 64, 0),
            )
            if body:
                details_text = details_template.safe_substitute(details=body)
                left -= len(details_text)

        error_text = render_last_error(runs, max(min(self.error_chars, left), 0))
        left -= len(error_text)

        stale = _stale_session(notebook, variables)
        if stale:
            stale = f"({stale})\n\n"
            left -= len(stale)
        rendered_cells = render_cells(
            runs,
            order,
            total=max(left, 0),
            cell_chars=self.cell_chars,
            output_chars=self.output_chars,
        )
        cells_text = rendered_cells.text
        notes = list(rendered_vars.notes)
        if rendered_cells.omitted:
            notes.append(f"{rendered_cells.omitted} earlier cell runs left out")
        if stale and rendered_cells.shown:
            cells_text = stale + cells_text
            notes.append("history is from an earlier kernel session")

        user = context_template.safe_substitute(
            variables=rendered_vars.text,
            cells=cells_text,
            error=error_text,
            details=details_text,
            prompt=prompt_text,
        ).strip()
        if len(user) > budget:
            # Only reachable when the templates or the budgets disagree (e.g. a custom template
            # much longer than the packaged one); the bound is a promise, so enforce it.
            user = clip(user, budget)
            notes.append("context cut to the total budget")
        system = self.system_prompt()
        return PromptContext(
            system=system,
            messages=[{"role": "user", "content": user}],
            mentions=mentions,
            variables_shown=rendered_vars.shown,
            live_names=frozenset(rendered_vars.live_names),
            live_names_complete=rendered_vars.complete,
            cells_shown=rendered_cells.shown,
            cells_omitted=rendered_cells.omitted,
            order=order,
            notes=notes,
            chars=len(user) + len(system),
            tokens_estimate=int((len(user) + len(system)) / self.chars_per_token) + 1,
        )


def _identifiers(text: str, limit: int = 200) -> list[str]:
    return _IDENTIFIER.findall(text[:4000])[:limit]


def _recent_identifiers(runs: list[Any], cells: int = 5) -> list[str]:
    """Names in the last few cells' code: the variables the user is working with right now."""
    names: list[str] = []
    for run in runs[-cells:]:
        names.extend(_identifiers(cell_source(run.cell), limit=100))
    return names


def _stale_session(nb: Mapping[str, Any], variables: Mapping[str, Any] | None) -> str | None:
    """A note when the notebook's recorded kernel context is not the live one (a restart)."""
    recorded = notebook_context(nb)
    live = variables.get("context") if isinstance(variables, Mapping) else None
    if recorded is not None and isinstance(live, str) and recorded != live:
        return (
            "these cells ran in an earlier kernel session; the kernel has restarted since, so "
            "only the variables listed above exist now"
        )
    return None
