"""A real JupyterHub on loopback for browser tests: its dummy authenticator, its simple spawner,
configurable-http-proxy from the checkout's node_modules, single-user servers from this venv."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.processes import stop_process

from .lab import free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
# The hub asks single-user servers and the proxy to start with this much room (a busy 2-core
# machine spawns slowly).
_START_S = 90

_CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {proxy_pid!r}
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = {cookie_secret!r}
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
# Each user's HOME (and so the default Jupyter data dir: checkpoints and their key) in the test's
# folder, not /tmp/<name> where other runs would meet.
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.notebook_dir = "~/notebooks"
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    "--ServerApp.allow_root=True",
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.news_url=None",
]
c.Spawner.start_timeout = {start_s}
c.Spawner.http_timeout = {start_s}
c.JupyterHub.services = [{{"name": "tester", "api_token": {admin_token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "tester",
        "scopes": ["admin:users", "admin:servers", "tokens"],
        "services": ["tester"],
    }}
]
"""


class HubUser:
    """One hub user's single-user server, with what the tests in `lab.py` ask of a server:
    `root` (the notebook folder), `lab_url()` and `api()` (with this user's own token)."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.home = hub.homes / name
        self.root = self.home / "notebooks"
        self.token = ""

    @property
    def data_dir(self) -> Path:
        """The Jupyter data dir of this user's server: jupyter_core's default under HOME."""
        return self.home / ".local" / "share" / "jupyter"

    @property
    def url(self) -> str:
        return f"{self.hub.url}/user/{self.name}"

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}/lab/tree/{path}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return request(method, self.url + path, self.token, body)

    def start(self) -> None:
        """Start this user's server through the hub's REST API and wait until it is ready."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.hub.api("POST", f"/users/{self.name}/server")
        deadline = time.monotonic() + _START_S
        while time.monotonic() < deadline:
            model = self.hub.api("GET", f"/users/{self.name}")
            server = model["servers"].get("")
            if server and server["ready"]:
                return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name}'s server was not ready within {_START_S} s")

    def stop(self) -> None:
        """Stop the server as the hub does (the spawner's SIGINT), wait until it is gone."""
        self.hub.api("DELETE", f"/users/{self.name}/server")
        deadline = time.monotonic() + _START_S
        while time.monotonic() < deadline:
            if not self.hub.api("GET", f"/users/{self.name}")["servers"]:
                return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name}'s server did not stop within {_START_S} s")

    def restart(self) -> None:
        self.stop()
        self.start()


class Hub:
    """`jupyterhub` with users whose servers run this checkout's jupyter-revive."""

    def __init__(self, folder: Path, log_dir: Path) -> None:
        self.folder = folder
        self.homes = folder / "users"
        self.hub_home = folder / "hub"  # the hub process's own HOME and Jupyter dirs
        self.log_dir = log_dir
        self.port = free_port()
        self.admin_token = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = log_dir / f"hub-{self.port}.log"
        self.users: dict[str, HubUser] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} is missing: run scripts/setup (jlpm install)")
        self.homes.mkdir(parents=True, exist_ok=True)
        self.hub_home.mkdir(parents=True, exist_ok=True)
        venv_bin = Path(sys.executable).parent
        config = self.folder / "jupyterhub_config.py"
        config.write_text(
            _CONFIG.format(
                port=self.port,
                hub_port=free_port(),
                proxy_api_port=free_port(),
                proxy=str(PROXY),
                proxy_pid=str(self.folder / "proxy.pid"),
                db=self.folder / "jupyterhub.sqlite",
                cookie_secret=str(self.folder / "cookie_secret"),
                homes=str(self.homes),
                singleuser=str(venv_bin / "jupyterhub-singleuser"),
                start_s=_START_S,
                admin_token=self.admin_token,
            )
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "ANTHROPIC_"))
        }
        env["HOME"] = str(self.hub_home)
        # The spawner passes PATH on (env_keep): the single-user server and its kernels come
        # from this venv.
        env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
        log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early, see {self.log_path}")
            try:
                self.api("GET", "/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not answer within {_START_S} s")

    def stop(self) -> None:
        """SIGTERM: the hub stops the users' servers and the proxy it started, then exits."""
        stop_process(self.proc, 60)
        self.proc = None

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return request(method, f"{self.url}/hub/api{path}", self.admin_token, body)

    def user(self, name: str) -> HubUser:
        """Create the user with an API token of its own (its default scopes: its own server)."""
        self.api("POST", f"/users/{name}")
        user = HubUser(self, name)
        user.token = self.api(
            "POST", f"/users/{name}/tokens", {"note": "test", "expires_in": 3600}
        )["token"]
        return user


def request(method: str, url: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else None
