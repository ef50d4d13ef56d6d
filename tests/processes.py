"""Servers the tests start as child processes (JupyterLab, Kernel Gateway, JupyterHub)."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen[bytes] | None, grace_s: float = 20) -> None:
    """SIGTERM, so the server shuts its kernels (or users' servers) down; SIGKILL after
    ``grace_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
