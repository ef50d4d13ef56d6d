"""Real IPython kernels for fidelity tests: record a run through the real tracker (each kernel is
launched by the revive provisioner, each cell sent with its cell id as JupyterLab does, the
notebook stamped from the execute replies as the frontend does), replay a plan, and fingerprint
variables so values can be compared across kernel processes."""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import nbformat
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_revive.kernel_manager.provisioner import PROVISIONER_NAME
from tests.kernelspecs import write_kernelspec
from tests.stamping import stamp

from .notebooks import notebook

KERNEL_NAME = "revive-fidelity"

# A canonical, JSON-able fingerprint of a value, computed inside the kernel that holds it.
_FINGERPRINT_SETUP = """
def __revive_fingerprint(names):
    import hashlib, json, re, sys, types
    g = globals()
    def fp(v, depth=0):
        if depth > 8:
            return ["deep", type(v).__qualname__]
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return ["float", repr(v)]
        if isinstance(v, bytes):
            return ["bytes", hashlib.sha256(v).hexdigest()]
        if isinstance(v, types.ModuleType):
            return ["module", v.__name__]
        if isinstance(v, (types.FunctionType, types.MethodType)):
            if v.__module__ != "__main__":
                return ["function", v.__module__, v.__qualname__]
            code = v.__code__
            consts = re.sub(" at 0x[0-9a-fA-F]+", "", repr(code.co_consts))
            body = hashlib.sha256(code.co_code + consts.encode()).hexdigest()
            return ["function", v.__qualname__, body]
        if isinstance(v, type):
            return ["class", v.__module__, v.__qualname__]
        if isinstance(v, (list, tuple)):
            return [type(v).__name__, [fp(x, depth + 1) for x in v]]
        if isinstance(v, dict):
            items = sorted(((repr(k), fp(x, depth + 1)) for k, x in v.items()), key=str)
            return ["dict", items]
        if isinstance(v, (set, frozenset)):
            return ["set", sorted(json.dumps(fp(x, depth + 1)) for x in v)]
        np = sys.modules.get("numpy")
        if np is not None and isinstance(v, np.ndarray):
            data = np.ascontiguousarray(v).tobytes() if v.dtype != object else repr(v).encode()
            return ["ndarray", str(v.dtype), list(v.shape), hashlib.sha256(data).hexdigest()]
        if np is not None and isinstance(v, np.generic):
            return ["npscalar", str(v.dtype), repr(v.item())]
        pd = sys.modules.get("pandas")
        if pd is not None and isinstance(v, (pd.DataFrame, pd.Series, pd.Index)):
            return ["pandas", type(v).__name__, v.to_json(orient="split", double_precision=15)]
        if hasattr(v, "bit_generator"):  # numpy Generator: its state is its value
            return ["generator", fp(v.bit_generator.state, depth + 1)]
        if hasattr(v, "__dict__") and not isinstance(v, type):
            return ["object", type(v).__qualname__, fp(vars(v), depth + 1)]
        return ["repr", type(v).__qualname__, re.sub(" at 0x[0-9a-fA-F]+", "", repr(v))]
    values = {n: fp(g[n]) if n in g else "<missing>" for n in names}
    shared = {}
    for n in names:
        v = g.get(n)
        atomic = (int, float, str, bool, bytes, type(None), types.ModuleType, type)
        if n in g and not isinstance(v, atomic):
            shared.setdefault(id(v), []).append(n)
    groups = sorted(sorted(ns) for ns in shared.values() if len(ns) > 1)
    return json.dumps({"values": values, "shared": groups})
"""


@dataclass
class Reply:
    status: str
    error: str | None
    seconds: float
    message: dict[str, Any]


class Kernel:
    def __init__(self, km: KernelManager, kc: BlockingKernelClient) -> None:
        self.km = km
        self.kc = kc

    @classmethod
    def start(cls, kernel_dir: str) -> Kernel:
        """A kernel started through the revive provisioner, as the server starts them."""
        specs = KernelSpecManager(kernel_dirs=[kernel_dir])
        km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        # Not the test run's folder: the OS reports what any process does there (``fsevents``).
        km.start_kernel(cwd=kernel_dir)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return cls(km, kc)

    def run(
        self, code: str, *, silent: bool = False, cell_id: str | None = None, timeout: float = 120
    ) -> Reply:
        """Execute as JupyterLab does: the cell id in the request metadata."""
        started = time.perf_counter()
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        reply = self._reply(msg["header"]["msg_id"], timeout)
        result = reply["content"]
        error = (
            f"{result.get('ename')}: {result.get('evalue')}" if result["status"] != "ok" else None
        )
        return Reply(result["status"], error, time.perf_counter() - started, reply)

    def chdir(self, path: str) -> None:
        """Work in ``path`` (silently: no record, nothing for the tracker to see)."""
        reply = self.run(f"__import__('os').chdir({path!r})", silent=True)
        assert reply.status == "ok", reply.error

    def _reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            reply: dict[str, Any] = self.kc.get_shell_msg(timeout=deadline - time.monotonic())
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def evaluate(self, expression: str) -> Any:
        reply = self.kc.execute_interactive(
            "",
            silent=True,
            user_expressions={"r": expression},
            timeout=60,
            output_hook=lambda msg: None,
        )
        result = reply["content"]["user_expressions"]["r"]
        if result["status"] != "ok":
            raise RuntimeError(f"{expression}: {result.get('ename')}: {result.get('evalue')}")
        return ast.literal_eval(result["data"]["text/plain"])

    def fingerprint(self, names: Sequence[str]) -> dict[str, Any]:
        self.run(_FINGERPRINT_SETUP, silent=True)
        data: dict[str, Any] = json.loads(self.evaluate(f"__revive_fingerprint({list(names)!r})"))
        return data

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


class KernelPool:
    """Fresh tracked kernels on demand, the next one already booting while the current one
    works."""

    def __init__(self, kernel_dir: str) -> None:
        write_kernelspec(kernel_dir, KERNEL_NAME, provisioner=PROVISIONER_NAME)
        self._dir = kernel_dir
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._next: Future[Kernel] = self._executor.submit(Kernel.start, kernel_dir)

    def fresh(self) -> Kernel:
        kernel = self._next.result()
        self._next = self._executor.submit(Kernel.start, self._dir)
        return kernel

    def close(self) -> None:
        self._next.result().shutdown()
        self._executor.shutdown()


def record(
    kernel: Kernel,
    cells: Sequence[str],
    order: Sequence[int],
    *,
    ledger: bool = True,
    workdir: str | None = None,
) -> tuple[nbformat.NotebookNode, float]:
    """Run `cells` (ids ``c0``, ``c1``…) in `order` in a fresh kernel and return the notebook
    the frontend would have saved, with the total execution time.

    ``ledger=False`` keeps the history but drops the cells' run records: a notebook planned
    from its code alone. ``workdir``: where the cells run (and the files they write stay).
    """
    if workdir is not None:
        kernel.chdir(workdir)
    nb = notebook(cells)
    replies = []
    total = 0.0
    for index in order:
        reply = kernel.run(cells[index], cell_id=nb.cells[index].id)
        if "revive" not in reply.message["metadata"]:
            raise AssertionError(f"no tracker record for cell {index}: is the tracker loaded?")
        total += reply.seconds
        replies.append(reply.message)
    stamp(nb, replies)
    if not ledger:
        for cell in nb.cells:
            cell.metadata.pop("revive", None)
    return nb, total
