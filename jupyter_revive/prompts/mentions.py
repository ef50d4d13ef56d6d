"""`@name` mentions in a prompt: the variables the user wants described in full."""

from __future__ import annotations

import re

from .secrets import is_secret_name

# Not preceded by a word character, a dot or another `@`, so `me@example.com` and `a@@b` are
# not mentions; a trailing `.attr` (as in `@df.price`) is left out: the detail is per variable.
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z_][A-Za-z0-9_]*)")


def extract_mentions(prompt: str, *, limit: int = 10) -> list[str]:
    """Names mentioned as ``@name`` in ``prompt``, first occurrence order, without duplicates.

    Secret-looking names (``@api_key``) are dropped so their detail is never fetched, and at most
    ``limit`` names are returned so a pasted log cannot make the server query hundreds of values.
    """
    names: list[str] = []
    for match in _MENTION.finditer(prompt):
        name = match.group(1)
        if name in names or is_secret_name(name):
            continue
        names.append(name)
        if len(names) >= limit:
            break
    return names
