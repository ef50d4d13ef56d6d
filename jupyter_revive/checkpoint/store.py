"""Where checkpoints live and what is known of them: signed manifests with the server.

Layout (outside the notebook's folder by default): ``<root>/<notebook id>/<checkpoint id>/``
holds ``manifest.json``, the signed manifest (``manifest``), and, for kernels the server
launched, the files the kernel wrote. A kernel on another host (behind a gateway) writes its
files into a folder of its own on that host (``jupyter_revive_tracker.places``); its manifest
says so (``"remote": true``) and names that folder as ``where``, and removing such a
checkpoint's files is asked of the kernel. The notebook id is the stable identity recorded in
the notebook's ``metadata.revive.notebook``; a checkpoint id is a fresh uuid. The key lives in
``key_dir``, never beside the checkpoints.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from traitlets import Int, Unicode, default
from traitlets.config import LoggingConfigurable

from ..dataflow.loading import DEFAULT_BYTES_PER_S, CheckpointGroup, CheckpointOffer
from ..inputs import InvalidInput, identifier
from .keys import signing_key
from .manifest import CheckpointRefused, sign, verify
from .retention import Caps, Freed, Stored, folder_bytes, remove, to_evict

MANIFEST_FILE = "manifest.json"
_REPLAYED = "a module or a notebook definition: its cell is replayed"


class ReviveCheckpoints(LoggingConfigurable):
    """Checkpoint folders, their signed manifests, and listing them."""

    root = Unicode(
        config=True,
        help=(
            "Folder holding checkpoints, one folder per notebook identity: their signed "
            "manifests and, for kernels the server launched, their files. Kernels behind a "
            "gateway write their files on their own host (under its Jupyter data dir, or "
            "$JUPYTER_REVIVE_CHECKPOINTS there); only the manifests are kept here."
        ),
    )
    key_dir = Unicode(
        config=True,
        help="Folder of the per-user signing key (0600); never shared with kernels or browsers.",
    )

    max_notebook_bytes = Int(
        5 * 2**30,
        config=True,
        help=(
            "Bytes of checkpoints kept per notebook (0: no limit); beyond it the least recently "
            "used are removed, and no single checkpoint is written larger."
        ),
    )
    max_total_bytes = Int(
        20 * 2**30,
        config=True,
        help="Bytes of checkpoints kept for all notebooks together (0: no limit).",
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

    def record(
        self,
        notebook: str,
        checkpoint: str,
        written: dict[str, Any],
        per_notebook: int | None = None,
        remote: bool = False,
    ) -> dict[str, Any]:
        """Sign and store the manifest of what the kernel ``written`` (its ``checkpoint_json``),
        then free space beyond the caps (``per_notebook``: a lower per-notebook cap).
        ``remote``: the kernel wrote its files on its own host, into ``written["where"]``."""
        folder = self.folder(notebook, checkpoint)
        where = str(written.get("where")) if remote else str(folder)
        manifest = {
            "notebook": notebook,
            "checkpoint": checkpoint,
            "context": written.get("context"),
            "position": written.get("seq"),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "where": where,
            "remote": remote,
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
        self.evict(keep=checkpoint, per_notebook=per_notebook)
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
        # A local checkpoint's files are beside its manifest; a remote one's in the folder its
        # kernel chose, which the signature covers.
        here = manifest.get("remote") is True or manifest.get("where") == str(path.parent)
        if manifest.get("checkpoint") != checkpoint or not here:
            raise CheckpointRefused("the manifest was moved from another checkpoint")
        return manifest

    def _scan(self, notebook: str | None = None) -> list[tuple[Stored, dict[str, Any] | None]]:
        """Every checkpoint folder (of one notebook, or all) with its verified manifest, or
        None and why not; each manifest is read and its signature checked once per call."""
        root = Path(self.root)
        notebooks = [identifier(notebook, "notebook")] if notebook else _children(root)
        out: list[tuple[Stored, dict[str, Any] | None]] = []
        for nb in notebooks:
            for checkpoint in _children(root / nb):
                folder = root / nb / checkpoint
                manifest: dict[str, Any] | None = None
                problem = None
                try:
                    manifest = self.open(nb, checkpoint)
                except (CheckpointRefused, InvalidInput) as e:
                    problem = str(e)
                try:
                    used = (folder / MANIFEST_FILE).stat().st_mtime
                except OSError:
                    used = _mtime(folder)
                names = () if manifest is None else tuple(_names(manifest))
                size = folder_bytes(folder)
                if manifest is not None and manifest.get("remote") is True:
                    size += int(manifest.get("bytes") or 0)  # its files are on the kernel's host
                stored = Stored(nb, checkpoint, folder, size, used, names, problem)
                out.append((stored, manifest))
        return out

    def _verified(self, notebook: str | None = None) -> list[dict[str, Any]]:
        """The verified manifests (of one notebook, or all), newest first."""
        out = []
        for stored, manifest in self._scan(notebook):
            if manifest is None:
                self.log.warning(
                    "jupyter-revive: checkpoint %s/%s ignored: %s",
                    stored.notebook,
                    stored.checkpoint,
                    stored.problem,
                )
            else:
                out.append(manifest)
        out.sort(key=lambda m: str(m.get("time")), reverse=True)
        return out

    def stored(self, notebook: str | None = None) -> list[Stored]:
        """Every checkpoint folder, usable or not, most recently used first."""
        return sorted((s for s, _ in self._scan(notebook)), key=lambda s: s.used, reverse=True)

    def notebook_cap(self, lower: int | None = None) -> int:
        """The per-notebook cap in bytes (0: none), or ``lower`` (a user's setting) if lower."""
        caps = [c for c in (self.max_notebook_bytes, lower) if c]
        return min(caps) if caps else 0

    def evict(self, keep: str | None = None, per_notebook: int | None = None) -> Freed:
        """Free space down to the caps (never removing ``keep``, the checkpoint just written)."""
        stored = [s for s, _ in self._scan()]
        caps = Caps(per_notebook=self.notebook_cap(per_notebook), total=self.max_total_bytes)
        return self._remove(to_evict(stored, caps, frozenset([keep] if keep else [])))

    def prune(
        self,
        notebook: str | None = None,
        everything: bool = False,
        older_than_s: float | None = None,
        dry_run: bool = False,
    ) -> Freed:
        """Free space: checkpoints that cannot be loaded and those beyond the caps, and also
        (of ``notebook``, or all) every one, or those unused for ``older_than_s``."""
        stored = [s for s, _ in self._scan()]
        chosen = to_evict(
            stored, Caps(per_notebook=self.notebook_cap(), total=self.max_total_bytes)
        )
        now = time.time()
        for s in stored:
            if notebook is not None and s.notebook != notebook:
                continue
            if everything or (older_than_s is not None and now - s.used > older_than_s):
                chosen.append(s)
        unique = list({s.folder: s for s in chosen}.values())
        return Freed(unique) if dry_run else self._remove(unique)

    def _remove(self, chosen: list[Stored]) -> Freed:
        freed = Freed()
        for s in chosen:
            try:
                remove(Path(self.root), s)
            except (OSError, ValueError) as e:
                self.log.warning("jupyter-revive: checkpoint %s not removed: %s", s.folder, e)
                continue
            freed.removed.append(s)
        if freed.removed:
            self.log.info(
                "jupyter-revive: removed %d checkpoint(s), %d bytes",
                len(freed.removed),
                freed.bytes,
            )
        return freed

    def listed(self, notebook: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the verified checkpoints (of one notebook, or all), newest first."""
        out = [
            {
                "notebook": manifest.get("notebook"),
                "checkpoint": manifest.get("checkpoint"),
                "context": manifest.get("context"),
                "position": manifest.get("position"),
                "names": _names(manifest),
                "bytes": manifest.get("bytes", 0),
                "time": manifest.get("time"),
                "used": stored.used_iso,
                "where": manifest.get("where"),
            }
            for stored, manifest in self._scan(notebook)
            if manifest is not None
        ]
        out.sort(key=lambda m: str(m.get("time")), reverse=True)
        return out

    async def take(
        self,
        query: Any,
        kernel_id: str,
        notebook: str,
        names: list[str] | None = None,
        budget_s: float | None = None,
        cap_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Checkpoint a kernel's variables (``query``: a ``ReviveKernelQuery``). ``budget_s``:
        groups estimated to take longer to write (at this notebook's last measured speed) are
        skipped, for automatic checkpoints that must stay a small part of the cell's time.
        ``cap_bytes``: the user's per-notebook cap, when lower than the server's."""
        max_bytes = None if budget_s is None else int(budget_s * self.write_speed(notebook))
        cap = self.notebook_cap(cap_bytes)
        if cap:
            max_bytes = cap if max_bytes is None else min(max_bytes, cap)
        checkpoint, folder = self.new(notebook)
        remote = bool(query.is_remote(kernel_id))
        if remote:  # the kernel's host: a folder of its own
            written = await query.checkpoint(
                kernel_id, None, names, max_bytes, into=(notebook, checkpoint)
            )
        else:
            written = await query.checkpoint(kernel_id, str(folder), names, max_bytes)
        # The kernel's executions up to the checkpoint: where the values sit in the history.
        ledger = await query.context(kernel_id)
        written["executions"] = [
            [e.get("cell"), e.get("code")]
            for e in ledger.get("executions", [])
            if isinstance(e.get("seq"), int) and e["seq"] <= written.get("seq", 0)
        ]
        manifest = self.record(notebook, checkpoint, written, cap_bytes, remote=remote)
        if remote:
            await self._prune_remote(query, kernel_id, notebook)
        return {
            "checkpoint": checkpoint,
            "saved": _names(manifest),
            "skipped": manifest["skipped"],
            "replay": manifest["replay"],
            "bytes": manifest["bytes"],
            "ms": written.get("ms"),
        }

    async def _prune_remote(self, query: Any, kernel_id: str, notebook: str) -> None:
        """Have a remote kernel remove its files of this notebook's checkpoints that are gone
        here (past the caps, pruned): the server cannot reach that host's disk itself."""
        keep = [s.checkpoint for s in self.stored(notebook)]
        try:
            answer = await query.prune(kernel_id, notebook, keep)
        except Exception as e:  # space is freed on the next checkpoint instead
            self.log.info("jupyter-revive: remote checkpoint files not pruned: %s", e)
            return
        if answer.get("removed"):
            self.log.info(
                "jupyter-revive: kernel %s removed checkpoint files %s",
                kernel_id,
                ", ".join(map(str, answer["removed"])),
            )

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
        with contextlib.suppress(OSError):  # its last use, for least-recently-used eviction
            os.utime(self.folder(notebook, checkpoint) / MANIFEST_FILE)
        return {k: answer.get(k) for k in ("loaded", "refused", "ms")}

    def write_speed(self, notebook: str) -> float:
        """Bytes per second of the notebook's newest checkpoint that measured one."""
        speeds = (_speed(manifest) for manifest in self._verified(notebook))
        return next((speed for speed in speeds if speed), DEFAULT_BYTES_PER_S)

    def saved_positions(self, notebook: str, context: str | None) -> dict[str, int]:
        """Per name, the newest history position at which kernel process ``context``
        checkpointed it."""
        out: dict[str, int] = {}
        for manifest in self._verified(notebook):
            position = manifest.get("position")
            if manifest.get("context") != context or not isinstance(position, int):
                continue
            for name in _names(manifest):
                out[name] = max(out.get(name, 0), position)
        return out

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
                skipped=tuple(
                    (str(s.get("name")), str(s.get("reason")))
                    for s in manifest.get("skipped", [])
                    if isinstance(s, dict)
                )
                + tuple((str(n), _REPLAYED) for n in manifest.get("replay", [])),
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


def _names(manifest: dict[str, Any]) -> list[str]:
    return sorted(n for g in manifest["groups"] for n in g["names"])


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _children(folder: Path) -> list[str]:
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        try:
            out.append(identifier(name, "folder"))
        except InvalidInput:
            continue
    return out
