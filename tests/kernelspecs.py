"""Kernelspecs for tests that start real kernels with jupyter_client."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

IPYKERNEL_ARGV = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def write_kernelspec(
    kernel_dir: str | Path, name: str, language: str = "python", provisioner: str | None = None
) -> str:
    """An ipykernel kernelspec; ``provisioner`` names one explicitly (None: the default)."""
    spec: dict[str, Any] = {"argv": IPYKERNEL_ARGV, "display_name": name, "language": language}
    if provisioner is not None:
        spec["metadata"] = {"kernel_provisioner": {"provisioner_name": provisioner}}
    path = Path(kernel_dir) / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return name
