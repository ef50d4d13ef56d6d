"""How much space checkpoints take and which to free: size caps, least-recently-used first.

A checkpoint's last use is the modification time of its manifest file: set when it is
written, touched when it is loaded. It is not part of the signed manifest, so a forged time
can at worst change the order of eviction, never what is loaded.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Stored:
    """One checkpoint folder on disk."""

    notebook: str
    checkpoint: str
    folder: Path
    bytes: int
    used: float  # seconds since the epoch
    names: tuple[str, ...] = ()
    problem: str | None = None  # why it cannot be loaded (unsigned, tampered, unfinished…)

    @property
    def used_iso(self) -> str:
        return datetime.datetime.fromtimestamp(self.used, datetime.timezone.utc).isoformat()


@dataclass(frozen=True)
class Caps:
    """Byte limits; 0 means no limit."""

    per_notebook: int = 0
    total: int = 0
    # Folders without a usable manifest younger than this may be a checkpoint being written.
    unfinished_grace_s: float = 3600.0


@dataclass
class Freed:
    removed: list[Stored] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.removed)


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files directly in ``folder`` (checkpoints have no subfolders)."""
    total = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    except FileNotFoundError:
        return 0
    return total


def to_evict(
    stored: Iterable[Stored],
    caps: Caps,
    keep: frozenset[str] = frozenset(),
    now: float | None = None,
) -> list[Stored]:
    """The checkpoints to remove so that what stays fits ``caps``: unusable ones (past their
    grace time) first, then the least recently used; never those in ``keep``."""
    now = time.time() if now is None else now
    remaining = []
    out = []
    for s in stored:
        if s.checkpoint in keep:
            remaining.append(s)
        elif s.problem is not None and now - s.used > caps.unfinished_grace_s:
            out.append(s)
        else:
            remaining.append(s)
    oldest_first = sorted(remaining, key=lambda s: s.used)
    if caps.per_notebook:
        by_notebook: dict[str, int] = {}
        for s in remaining:
            by_notebook[s.notebook] = by_notebook.get(s.notebook, 0) + s.bytes
        for s in oldest_first:
            if by_notebook[s.notebook] > caps.per_notebook and s.checkpoint not in keep:
                out.append(s)
                by_notebook[s.notebook] -= s.bytes
    if caps.total:
        chosen = {id(s) for s in out}
        total = sum(s.bytes for s in remaining if id(s) not in chosen)
        for s in oldest_first:
            if total <= caps.total:
                break
            if id(s) not in chosen and s.checkpoint not in keep:
                out.append(s)
                chosen.add(id(s))
                total -= s.bytes
    return out


def remove(root: Path, stored: Stored) -> None:
    """Delete a checkpoint folder; only a real folder two levels below ``root``."""
    folder = stored.folder
    if folder.parent.parent != root or folder.is_symlink() or not folder.is_dir():
        raise ValueError(f"{folder} is not a checkpoint folder under {root}")
    shutil.rmtree(folder)
    with contextlib.suppress(OSError):  # the notebook's folder, once its last one is gone
        folder.parent.rmdir()
