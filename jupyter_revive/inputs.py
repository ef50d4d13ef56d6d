"""Request bodies read into the values the planner and the prompts take, or ``InvalidInput``.

No tornado here: handlers.py turns ``InvalidInput`` into a 400 with a JSON body, in the one place
that maps domain exceptions to HTTP status codes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import nbformat


class InvalidInput(ValueError):
    """A request the server cannot act on; the message names the field and what is wrong."""


class InvalidNotebook(InvalidInput):
    @classmethod
    def not_an_object(cls) -> InvalidNotebook:
        return cls("notebook must be an nbformat JSON object.")

    @classmethod
    def from_exception(cls, exc: BaseException) -> InvalidNotebook:
        # nbformat's messages run to a whole schema dump: its first line says what is wrong.
        text = str(exc).strip()
        return cls(f"Invalid notebook: {text.splitlines()[0] if text else type(exc).__name__}")


def json_object(raw: bytes | None) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as e:
        raise InvalidInput(f"Request body is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise InvalidInput("Request body must be a JSON object.")
    return body


def notebook(data: Any) -> nbformat.NotebookNode:
    """A valid nbformat v4 notebook (older versions converted)."""
    if not isinstance(data, dict):
        raise InvalidNotebook.not_an_object()
    try:
        nb = nbformat.from_dict(data)
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
        nbformat.validate(nb)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError) as e:
        raise InvalidNotebook.from_exception(e) from e
    return nb


def names(data: Any) -> list[str] | None:
    """Variable names to restore; None: every name (the field was absent or null)."""
    if data is None:
        return None
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise InvalidInput("names must be a list of strings or null.")
    return data


def required_text(data: Any, field: str, max_chars: int) -> str:
    if not isinstance(data, str) or not data.strip():
        raise InvalidInput(f"{field} must be a non-empty string.")
    if len(data) > max_chars:
        raise InvalidInput(f"{field} is longer than {max_chars} characters.")
    return data


def optional_text(data: Any, field: str) -> str | None:
    """A string field that may be absent; null and "" mean absent too."""
    if data is None or data == "":
        return None
    if not isinstance(data, str):
        raise InvalidInput(f"{field} must be a string or null.")
    return data


def flag(data: Any, field: str) -> bool:
    """A boolean field that may be absent (false)."""
    if data is None:
        return False
    if not isinstance(data, bool):
        raise InvalidInput(f"{field} must be true or false.")
    return data


def _optional_number(data: Any, field: str, unit: str) -> float | None:
    if data is None:
        return None
    if isinstance(data, bool) or not isinstance(data, (int, float)) or not data >= 0:
        raise InvalidInput(f"{field} must be a number of {unit} or null.")
    return float(data)


def optional_seconds(data: Any, field: str) -> float | None:
    return _optional_number(data, field, "seconds")


def optional_bytes(data: Any, field: str) -> int | None:
    value = _optional_number(data, field, "bytes")
    return None if value is None else int(value)


_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def identifier(data: Any, field: str) -> str:
    """A notebook or checkpoint id: letters, digits, ``-`` and ``_``, never a path."""
    if not isinstance(data, str) or not _IDENTIFIER.match(data):
        raise InvalidInput(f"{field} must be an id of letters, digits, '-' and '_' (at most 64).")
    return data
