"""The tracker package as files: the one reader of its sources, and its staging for kernels.

Both ways into a kernel use ``tracker_sources()``: the provisioner puts the files in a private
directory (``stage_tracker``) that the kernel imports from; the shell-channel injection
(``query.injection_code``) sends them to kernels the server did not launch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from .jupyter_revive_tracker import MODULE_NAME

PACKAGE_DIR = Path(__file__).with_name(MODULE_NAME)

_staged: dict[str, Path] = {}


def tracker_sources() -> dict[str, str]:
    """``{path relative to the package (posix): source}`` of every file of the package, sorted.

    The package is Python files only (``__pycache__`` aside), so this is all of it.
    """
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(PACKAGE_DIR).as_posix(): p.read_text(encoding="utf-8") for p in files}


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files.items()):
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:12]


def _holds(directory: Path, files: dict[str, bytes]) -> bool:
    try:
        return all((directory / MODULE_NAME / n).read_bytes() == d for n, d in files.items())
    except OSError:
        return False


def stage_tracker(root: str | os.PathLike[str] | None = None) -> Path:
    """Directory holding the package folder ``jupyter_revive_tracker/``, named by its content.

    The folder is written whole under a temporary name and renamed into place, so kernels
    starting concurrently, or from several servers sharing a runtime dir, never import a
    half-written package.
    """
    files = {name: text.encode("utf-8") for name, text in tracker_sources().items()}
    base = Path(root) if root is not None else Path(jupyter_runtime_dir())
    directory = base / f"revive-tracker-{_digest(files)}"
    key = str(directory)
    cached = _staged.get(key)
    if cached is not None and (cached / MODULE_NAME / "__init__.py").is_file():
        return cached
    if not _holds(directory, files):
        base.mkdir(parents=True, exist_ok=True)
        _publish(directory, files)
    _staged[key] = directory
    return directory


def _publish(directory: Path, files: dict[str, bytes]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        for name, data in files.items():
            path = tmp / MODULE_NAME / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            os.rename(tmp, directory)  # atomic; fails when the directory exists (not empty)
            return
        except OSError:
            if _holds(directory, files):  # another server or kernel start staged it meanwhile
                return
        # A directory of that name with other content (damaged by hand): swap ours in.
        aside = tmp.with_name(tmp.name + "-old")
        try:
            os.rename(directory, aside)
            os.rename(tmp, directory)
        except OSError:
            if not _holds(directory, files):
                raise
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
