"""Pull the python code out of a model reply."""

from __future__ import annotations

import re

# The opening fence may carry a language tag (```python, ```py, ```ipython); the closing fence
# must start a line. A reply cut off by max_tokens has no closing fence: the open block counts.
_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+.-]*)[^\n]*\n"
    r"(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_PYTHON_TAGS = {"", "python", "py", "python3", "ipython", "ipython3"}


def extract_code(text: str) -> str:
    """The first fenced python block of ``text`` (the first fenced block of any language if no
    block is python-tagged), else the whole text stripped."""
    first_any: str | None = None
    for match in _FENCE.finditer(text):
        body = match.group("body").rstrip("\n")
        if match.group("lang").lower() in _PYTHON_TAGS:
            return body.strip("\n")
        if first_any is None:
            first_any = body
    if first_any is not None:
        return first_any.strip("\n")
    return text.strip()
