"""A user's install: the built wheel, alone in a fresh venv, gives JupyterLab with both extensions
enabled and OK, and Python kernels that are tracked.

This installs the wheel's declared dependencies from the package index (no test extra, nothing
from the development venv), so a dependency the test extra used to hide fails here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

TOKEN = "user-install-test"


def _run(*args: str | Path, **kwargs: Any) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


# What the wheel must ship besides the Python package: both extensions and their data.
SHIPPED = (
    "share/jupyter/labextensions/jupyter-revive/package.json",
    "share/jupyter/labextensions/jupyter-revive/schemas/jupyter-revive/plugin.json",
    "share/jupyter/labextensions/jupyter-revive/install.json",
    "etc/jupyter/jupyter_server_config.d/jupyter_revive.json",
    "jupyter_revive/kernel_manager/jupyter_revive_tracker/__init__.py",
    "jupyter_revive/events/context.yaml",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    # The lab extension is already built by setup, so the build hook skips jlpm here.
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", dist, ROOT)  # fmt: skip
    (built,) = dist.glob("jupyter_revive-*.whl")
    return built


def test_wheel_ships_both_extensions(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert [f for f in SHIPPED if not any(n.endswith(f) for n in names)] == []


@pytest.fixture(scope="module")
def user_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("user-install")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    _run(env_dir / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return env_dir


def _jupyter(env_dir: Path, *args: str) -> str:
    # A clean environment: no PYTHONPATH or JUPYTER_* paths from the development venv leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    return _run(env_dir / "bin" / "jupyter", *args, env=env)


def test_server_extension_enabled_and_ok(user_venv: Path) -> None:
    lines = _jupyter(user_venv, "server", "extension", "list").splitlines()
    assert any("jupyter_revive" in ln and "enabled" in ln for ln in lines)
    assert any("jupyter_revive" in ln and "OK" in ln and "Validating" not in ln for ln in lines)


def test_lab_extension_enabled_and_ok(user_venv: Path) -> None:
    out = _jupyter(user_venv, "labextension", "list")
    line = next(ln for ln in out.splitlines() if "jupyter-revive" in ln)
    assert "enabled" in line and "OK" in line
    # Installed from the wheel, not linked into a source tree.
    assert str(user_venv) in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(port: int, path: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


@pytest.fixture
def lab(user_venv: Path, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
    env["PATH"] = f"{user_venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")  # no user config of this machine
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            str(user_venv / "bin" / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _api(port, "/api/status")
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "lab.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_jupyter_lab_serves_the_extension_and_tracks_python_kernels(lab: int) -> None:
    page = (
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{lab}/lab?token={TOKEN}"), timeout=30
        )
        .read()
        .decode()
    )
    assert "jupyter-revive" in page  # the page config lists the federated extension
    kernel = _api(lab, "/api/kernels", "POST", {"name": "python3"})
    deadline = time.monotonic() + 60
    while True:
        try:
            context = _api(lab, f"/jupyter-revive/kernels/{kernel['id']}/context")
            break
        except urllib.error.HTTPError as err:  # 503 while the kernel is still starting
            assert err.code == 503 and time.monotonic() < deadline, err.read()
            time.sleep(0.5)
    assert len(context["context"]) == 36  # a uuid4 born with the kernel process
    assert context["executions"] == []
    _api(lab, f"/api/kernels/{kernel['id']}", "DELETE")
