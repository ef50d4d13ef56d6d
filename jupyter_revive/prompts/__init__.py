"""LLM prompt cells: templates, the context builder and the Anthropic client (no tornado here).

The generate handler's whole use of this package::

    generation = Generation(request, builder=builder, generator=generator, kernel=kernel_query)
    async for event in generation.events():                  # one JSON line per event
        ...
    generation.cancel()                                      # Stop, or the browser went away

``Generation`` (generation.py) reads the kernel, builds the context (context.py), streams the
reply (generator.py) and runs the missing-variable guard (guard.py) on the finished code.
"""

from __future__ import annotations

from .codeblock import extract_code
from .context import PromptContext, ReviveContextBuilder
from .errors import ErrorEvent, ErrorKind
from .generation import GenerateRequest, Generation
from .generator import DEFAULT_MODEL, ReviveGenerator
from .guard import guard_report
from .mentions import extract_mentions
from .names import missing_names, used_names
from .secrets import is_secret_name, redact

__all__ = [
    "DEFAULT_MODEL",
    "ErrorEvent",
    "ErrorKind",
    "GenerateRequest",
    "Generation",
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
