"""Cutting text to a character budget while saying that it was cut."""

from __future__ import annotations

import re
from collections.abc import Iterable

ELLIPSIS = "…"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clip(text: str, limit: int, *, tail: bool = True) -> str:
    """``text`` if it fits in ``limit`` characters, else its head (and tail when ``tail``) with a
    marker that tells the model how much was left out. The result never exceeds ``limit``."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = len(text) - limit
    marker = f"\n{ELLIPSIS} [{cut:,} characters cut] {ELLIPSIS}\n"
    room = limit - len(marker)
    if room < 16:
        return text[: max(limit - 1, 0)] + ELLIPSIS
    # The marker's length depends on the count it shows; recount once with the real cut.
    cut = len(text) - room
    marker = f"\n{ELLIPSIS} [{cut:,} characters cut] {ELLIPSIS}\n"
    room = limit - len(marker)
    if not tail:
        return text[:room] + marker.rstrip("\n")
    head = room * 2 // 3
    return text[:head] + marker + text[len(text) - (room - head) :]


def one_line(text: str, limit: int) -> str:
    """A single-line rendering of ``text`` (newlines shown as ``\\n``), at most ``limit`` chars."""
    # Only look at what can survive the clip: a repr of a huge object may be megabytes long.
    text = text[: limit * 2 + 64].replace("\r", "").replace("\n", "\\n")
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def join_bounded(pieces: Iterable[str], limit: int) -> tuple[str, bool]:
    """Concatenate ``pieces`` until more than ``limit`` characters are gathered.

    Returns the text and whether pieces were left unread: nbformat stores long outputs as
    thousands of list items, and joining all of them only to cut them again is what makes
    huge notebooks slow.
    """
    out: list[str] = []
    size = 0
    for piece in pieces:
        if size > limit:
            return "".join(out), True
        if not isinstance(piece, str):
            continue
        out.append(piece)
        size += len(piece)
    return "".join(out), False


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
