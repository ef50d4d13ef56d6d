"""LLM prompt cells: templates, the context builder and the Anthropic client (no tornado here).

The generate handler's whole use of this package::

    mentions = extract_mentions(prompt)                      # fetch kernel detail for these
    ctx = builder.build(prompt, notebook, cell_id=cell_id, variables=summary, details=details)
    async for event in generator.stream(ctx.system, ctx.messages, cancel=stop):
        ...                                                  # one JSON line per event
    guard_report(event["code"], ctx.live_names, notebook)     # the missing-variable guard
"""

from __future__ import annotations

from .codeblock import extract_code
from .context import PromptContext, ReviveContextBuilder
from .errors import ErrorEvent, ErrorKind
from .generator import DEFAULT_MODEL, ReviveGenerator
from .guard import guard_report
from .mentions import extract_mentions
from .names import missing_names, used_names
from .secrets import is_secret_name, redact

__all__ = [
    "DEFAULT_MODEL",
    "ErrorEvent",
    "ErrorKind",
    "PromptContext",
    "ReviveContextBuilder",
    "ReviveGenerator",
    "extract_code",
    "extract_mentions",
    "guard_report",
    "is_secret_name",
    "missing_names",
    "redact",
    "used_names",
]
