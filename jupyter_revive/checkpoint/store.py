"""Where checkpoints live and what is known of them: signed manifests beside the kernel's files.

Layout (outside the notebook's folder by default): ``<root>/<notebook id>/<checkpoint id>/``
holds the files the kernel wrote and ``manifest.json``, the signed manifest (``manifest``).
The notebook id is the stable identity recorded in the notebook's ``metadata.revive.notebook``;
a checkpoint id is a fresh uuid. The key lives in ``key_dir``, never beside the checkpoints.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from traitlets import Unicode, default
from traitlets.config import LoggingConfigurable

from ..dataflow.loading import DEFAULT_BYTES_PER_S, CheckpointGroup, CheckpointOffer
from ..inputs import InvalidInput, identifier
from .keys import signing_key
from .manifest import CheckpointRefused, sign, verify

MANIFEST_FILE = "manifest.json"


class ReviveCheckpoints(LoggingConfigurable):
    """Checkpoint folders, their signed manifests, and listing them."""

    root = Unicode(
        config=True,
        help=(
            "Folder holding checkpoints, one folder per notebook identity. The kernel writes "
            "there, so for kernels on another host it must be a path on that host."
        ),
    )
    key_dir = Unicode(
        config=True,
        help="Folder of the per-user signing key (0600); never shared with kernels or browsers.",
    )

    @default("root")
    def _default_root(self) -> str:
        return os.path.join(jupyter_data_dir(), "revive", "checkpoints")

    @default("key_dir")
    def _default_key_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "revive")

    def new(self, notebook: str) -> tuple[str, Path]:
        """A fresh checkpoint id and its folder (not created: the kernel creates it)."""
        checkpoint = str(uuid.uuid4())
        return checkpoint, self.folder(notebook, checkpoint)

    def folder(self, notebook: str, checkpoint: str) -> Path:
        return (
            Path(self.root)
            / identifier(notebook, "notebook")
            / identifier(checkpoint, "checkpoint")
        )

    def record(self, notebook: str, checkpoint: str, written: dict[str, Any]) -> dict[str, Any]:
        """Sign and store the manifest of what the kernel ``written`` (its ``checkpoint_json``)."""
        folder = self.folder(notebook, checkpoint)
        manifest = {
            "notebook": notebook,
            "checkpoint": checkpoint,
            "context": written.get("context"),
            "position": written.get("seq"),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "where": str(folder),
            "groups": written.get("groups", []),
            "skipped": written.get("skipped", []),
            "replay": written.get("replay", []),
            "bytes": written.get("bytes", 0),
            "ms": written.get("ms"),
            "executions": written.get("executions", []),
        }
        signed = sign(manifest, signing_key(Path(self.key_dir)))
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # none if nothing was written
        tmp = folder / f".{MANIFEST_FILE}.{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(signed, f)
        os.replace(tmp, folder / MANIFEST_FILE)
        return signed["manifest"]

    def open(self, notebook: str, checkpoint: str) -> dict[str, Any]:
        """The verified manifest of a checkpoint; ``CheckpointRefused`` says why not."""
        path = self.folder(notebook, checkpoint) / MANIFEST_FILE
        try:
            signed = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointRefused(f"there is no checkpoint {checkpoint}") from None
        except (OSError, ValueError) as e:
            raise CheckpointRefused(f"the checkpoint's manifest cannot be read: {e}") from None
        manifest = verify(signed, signing_key(Path(self.key_dir)), notebook)
        if manifest.get("checkpoint") != checkpoint or manifest.get("where") != str(path.parent):
            raise CheckpointRefused("the manifest was moved from another checkpoint")
        return manifest

    def _verified(self, notebook: str | None = None) -> list[dict[str, Any]]:
        """The verified manifests (of one notebook, or all), newest first; each file is read
        and its signature checked once per call."""
        root = Path(self.root)
        notebooks = [identifier(notebook, "notebook")] if notebook else _children(root)
        out = []
        for nb in notebooks:
            for checkpoint in _children(root / nb):
                try:
                    out.append(self.open(nb, checkpoint))
                except (CheckpointRefused, InvalidInput) as e:
                    self.log.warning(
                        "jupyter-revive: checkpoint %s/%s ignored: %s", nb, checkpoint, e
                    )
        out.sort(key=lambda m: str(m.get("time")), reverse=True)
        return out

    def listed(self, notebook: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the verified checkpoints (of one notebook, or all), newest first."""
        return [
            {
                "notebook": manifest.get("notebook"),
                "checkpoint": manifest.get("checkpoint"),
                "context": manifest.get("context"),
                "position": manifest.get("position"),
                "names": sorted(n for g in manifest["groups"] for n in g["names"]),
                "bytes": manifest.get("bytes", 0),
                "time": manifest.get("time"),
                "where": manifest.get("where"),
            }
            for manifest in self._verified(notebook)
        ]

    async def take(
        self,
        query: Any,
        kernel_id: str,
        notebook: str,
        names: list[str] | None = None,
        budget_s: float | None = None,
    ) -> dict[str, Any]:
        """Checkpoint a kernel's variables (``query``: a ``ReviveKernelQuery``). ``budget_s``:
        groups estimated to take longer to write (at this notebook's last measured speed) are
        skipped, for automatic checkpoints that must stay a small part of the cell's time."""
        max_bytes = None if budget_s is None else int(budget_s * self.write_speed(notebook))
        checkpoint, folder = self.new(notebook)
        written = await query.checkpoint(kernel_id, str(folder), names, max_bytes)
        # The kernel's executions up to the checkpoint: where the values sit in the history.
        ledger = await query.context(kernel_id)
        written["executions"] = [
            [e.get("cell"), e.get("code")]
            for e in ledger.get("executions", [])
            if isinstance(e.get("seq"), int) and e["seq"] <= written.get("seq", 0)
        ]
        manifest = self.record(notebook, checkpoint, written)
        return {
            "checkpoint": checkpoint,
            "saved": sorted(n for g in manifest["groups"] for n in g["names"]),
            "skipped": manifest["skipped"],
            "replay": manifest["replay"],
            "bytes": manifest["bytes"],
            "ms": written.get("ms"),
        }

    async def load(
        self,
        query: Any,
        kernel_id: str,
        notebook: str,
        checkpoint: str,
        names: list[str] | None = None,
    ) -> dict[str, Any]:
        """Load a verified checkpoint (the groups holding ``names``, or all) into a kernel."""
        manifest = self.open(notebook, checkpoint)
        groups = manifest["groups"]
        if names is not None:
            wanted = set(names)
            groups = [g for g in groups if wanted & set(g["names"])]  # groups load whole
        answer = await query.load(kernel_id, manifest["where"], groups)
        return {k: answer.get(k) for k in ("loaded", "refused", "ms")}

    def write_speed(self, notebook: str) -> float:
        """Bytes per second of the notebook's newest checkpoint that measured one."""
        speeds = (_speed(manifest) for manifest in self._verified(notebook))
        return next((speed for speed in speeds if speed), DEFAULT_BYTES_PER_S)

    def offers(self, notebook: str, context: str | None) -> list[CheckpointOffer]:
        """The verified checkpoints of ``notebook`` taken in kernel process ``context``, newest
        first, as the planner takes them."""
        if context is None:
            return []
        return [
            CheckpointOffer(
                checkpoint=manifest["checkpoint"],
                context=context,
                executions=tuple(
                    (cell, code)
                    for cell, code in manifest.get("executions", [])
                    if isinstance(cell, (str, type(None))) and isinstance(code, (str, type(None)))
                ),
                groups=tuple(
                    CheckpointGroup(tuple(g["names"]), sum(b["bytes"] for b in g["blobs"]))
                    for g in manifest["groups"]
                ),
                bytes_per_s=_speed(manifest) or DEFAULT_BYTES_PER_S,
            )
            for manifest in self._verified(notebook)
            if manifest.get("context") == context
        ]


def _speed(manifest: dict[str, Any]) -> float:
    """Write speed the manifest measured (bytes per second), 0 when it measured none; tiny
    checkpoints say more about overheads than speed."""
    ms, size = manifest.get("ms"), manifest.get("bytes")
    if not isinstance(ms, (int, float)) or not isinstance(size, int) or ms <= 0 or size < 1e6:
        return 0.0
    return size / (ms / 1000.0)


def _children(folder: Path) -> list[str]:
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        try:
            out.append(identifier(name, "folder"))
        except InvalidInput:
            continue
    return out
