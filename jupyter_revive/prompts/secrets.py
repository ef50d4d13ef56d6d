"""Keep secrets out of what is sent to the model: secret-looking names, and key-shaped strings."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "<redacted>"

# A variable whose name contains one of these is never described to the model, not even its type:
# `api_key`, `OPENAI_TOKEN`, `db_password`, `aws_secret`... "auth" is matched unless "author".
_SECRET_NAME = re.compile(
    r"key|token|secret|passw|passphrase|pwd|credential|cookie|private|auth(?!or)|bearer|signature",
    re.IGNORECASE,
)

# Strings shaped like well-known credentials, wherever they appear (code, outputs, reprs).
# Anthropic keys come first: `sk-ant-` would otherwise be caught by the generic `sk-` rule anyway,
# but naming it keeps the intent readable.
_SECRET_VALUE = re.compile(
    "|".join(
        [
            r"sk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
            r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{16,}",  # OpenAI, Stripe and friends
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
            r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API key
            r"\bhf_[A-Za-z0-9]{20,}",  # Hugging Face
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWT
            r"(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        ]
    )
)

# `api_key = "..."`, `{"password": "..."}`, `os.environ["HF_TOKEN"] = "..."`: the literal assigned
# to a name that ends like a secret is dropped even when its shape is unknown. Narrower than
# names: `KeyError: 'region'` or `key="col"` are everyday code, not credentials.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?P<lhs>\b\w*(?:api_?key|_key|secret|token|passw(?:or)?d|passphrase|pwd|credentials?)s?"""
    r"""['"]?\]?\s*[:=]\s*)"""
    r"""(?P<q>['"])(?P<value>[^'"\n]{3,})(?P=q)""",
    re.IGNORECASE,
)


# Cheap substring checks (lower-cased) that must hold before either regex can match: scanning
# tens of kilobytes with the full alternations costs milliseconds per request, `in` microseconds.
_VALUE_HINTS = (
    "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "akia", "aiza", "hf_",
    "eyj", "bearer", "private key",
)  # fmt: skip
_ASSIGNMENT_HINTS = ("key", "token", "secret", "passw", "passphrase", "pwd", "credential")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Replace key-shaped substrings and ``extra`` values (the server's key) in ``text``."""
    for value in extra:
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, REDACTED)
    if not text:
        return text
    lower = text.lower()
    if any(hint in lower for hint in _VALUE_HINTS):
        text = _SECRET_VALUE.sub(REDACTED, text)
    if not any(hint in lower for hint in _ASSIGNMENT_HINTS):
        return text
    return _SECRET_ASSIGNMENT.sub(
        lambda m: f"{m['lhs']}{m['q']}{REDACTED}{m['q']}" if m["value"] != REDACTED else m.group(0),
        text,
    )
