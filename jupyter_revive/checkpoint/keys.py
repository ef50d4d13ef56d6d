"""The per-user checkpoint signing key: 32 random bytes in the Jupyter data directory, 0600."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = "checkpoint-signing.key"
_KEY_BYTES = 32


class KeyUnusable(Exception):
    """The key file exists but cannot be trusted or read."""


def signing_key(directory: Path) -> bytes:
    """The key in ``directory`` (created on first use, atomically: concurrent servers agree).

    A key file that others may read or write is refused rather than used: anyone who can read
    it can sign a checkpoint that the kernel would unpickle.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / KEY_FILE
    if not path.exists():
        tmp = directory / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(_KEY_BYTES) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made it first: then use theirs
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.remove(tmp)
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise KeyUnusable(f"{path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyUnusable(
            f"{path} is readable or writable by others (mode {stat.S_IMODE(info.st_mode):o}); "
            "checkpoints are not signed or loaded until it is 0600 (chmod 600 it)"
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise KeyUnusable(f"{path} does not hold a {_KEY_BYTES}-byte hex key")
    return key
