"""A real Jupyter Kernel Gateway on 127.0.0.1, standing in for a remote kernel host.

It runs from its own environment (``.venv-gateway/``, made by ``scripts/setup-gateway``) that has
Kernel Gateway and ipykernel but not jupyter-revive, with its own Jupyter folders: its kernels
see neither the server's files nor our package, as on another host.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("REVIVE_GATEWAY_VENV", ROOT / ".venv-gateway"))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class KernelGateway:
    """``jupyter kernelgateway`` with its own home; ``data_dir`` is the "remote" data folder."""

    def __init__(self, home: Path, log: Path) -> None:
        self.home = home
        self.data_dir = home / "data"
        self.work_dir = home / "work"  # the kernels' working folder: not the checkout
        self.log = log
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        python = VENV / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"{VENV} is missing: run scripts/setup (or scripts/setup-gateway)")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "IPYTHON"))
        }
        for name, sub in (
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_CONFIG_DIR", "config"),
            ("IPYTHONDIR", "ipython"),
        ):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(self.home / sub)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        # A gateway hands its kernels only PATH, KERNEL_* and these of its own environment.
        env["KG_ENV_PROCESS_WHITELIST"] = "JUPYTER_DATA_DIR,JUPYTER_RUNTIME_DIR,IPYTHONDIR"
        cmd = [
            str(python),
            "-m",
            "kernel_gateway",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={self.port}",
            "--KernelGatewayApp.port_retries=0",
            "--JupyterWebsocketPersonality.list_kernels=True",
            "--log-level=DEBUG",  # which messages went where, when a test needs explaining
        ]
        out = open(self.log, "wb")  # noqa: SIM115 - closed with the process's output
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=self.work_dir, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the kernel gateway exited early, see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/kernelspecs", timeout=5) as r:
                    json.load(r)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError(f"the kernel gateway did not answer within 60 s, see {self.log}")

    def kernels(self) -> list[dict[str, object]]:
        with urllib.request.urlopen(f"{self.url}/api/kernels", timeout=10) as r:
            answer: list[dict[str, object]] = json.load(r)
        return answer

    def stop(self) -> None:
        stop_process(self.proc)  # the gateway shuts its kernels down
        self.proc = None
