"""Signed checkpoint manifests: HMAC-SHA256 over the manifest's canonical JSON.

A manifest says which files (by name, size and SHA-256) hold which names, for which notebook,
kernel context and history position. ``verify`` refuses a manifest whose signature does not
match (changed, or signed with another user's key) or that belongs to another notebook; only a
verified manifest's hashes are ever handed to the kernel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

VERSION = 1


class CheckpointRefused(Exception):
    """A checkpoint that must not be loaded; the message says why, for the user."""


def _canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _mac(manifest: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()


def sign(manifest: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``{"manifest": manifest, "signature": hex}`` (``manifest`` gains its ``version``)."""
    body = {**manifest, "version": VERSION}
    return {"manifest": body, "signature": _mac(body, key)}


def verify(signed: Any, key: bytes, notebook: str | None = None) -> dict[str, Any]:
    """The manifest of ``signed`` if its signature is this key's and it is ``notebook``'s."""
    if not isinstance(signed, dict) or not isinstance(signed.get("manifest"), dict):
        raise CheckpointRefused("the checkpoint's manifest is missing or malformed")
    manifest: dict[str, Any] = signed["manifest"]
    signature = signed.get("signature")
    try:
        expected = _mac(manifest, key)
    except (TypeError, ValueError):
        raise CheckpointRefused("the checkpoint's manifest is malformed") from None
    if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
        raise CheckpointRefused(
            "the checkpoint's signature does not match: it was changed after it was written, "
            "or signed with another key"
        )
    if manifest.get("version") != VERSION:
        raise CheckpointRefused(f"checkpoint format {manifest.get('version')!r} is not known")
    if notebook is not None and manifest.get("notebook") != notebook:
        raise CheckpointRefused("the checkpoint belongs to another notebook")
    return manifest
