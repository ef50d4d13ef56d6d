"""The installed package registers both extensions, as `jupyter … extension list` reports them."""

from __future__ import annotations

import subprocess
import sys


def _jupyter(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_server_extension_is_enabled_and_ok() -> None:
    lines = _jupyter("server", "extension", "list").splitlines()
    assert any("jupyter_revive" in ln and "enabled" in ln for ln in lines)
    # "- Validating jupyter_revive..." is followed by "jupyter_revive <version> OK".
    assert any("jupyter_revive" in ln and "OK" in ln and "Validating" not in ln for ln in lines)


def test_lab_extension_is_enabled_and_ok() -> None:
    out = _jupyter("labextension", "list")
    line = next(ln for ln in out.splitlines() if "jupyter-revive" in ln)
    assert "enabled" in line and "OK" in line


def test_cli_plan_is_reachable_through_jupyter() -> None:
    out = _jupyter("revive", "plan", "--help")
    assert "--names" in out and "--json" in out
