"""Real IPython kernels for fidelity tests: record a run the way the product would, replay a plan,
and fingerprint variables so values can be compared across kernel processes."""

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
from jupyter_client.manager import KernelManager, start_new_kernel

from .notebooks import notebook

# Defined in the recording kernel: the namespace diff a tracker would record per execution.
_DIFF_SETUP = """
def __revive_diff():
    import json
    g = globals()
    skip = {"In", "Out", "get_ipython", "exit", "quit"}
    cur = {k: v for k, v in g.items() if not k.startswith("_") and k not in skip}
    prev = g.get("__revive_prev", {})
    defined = sorted(k for k, v in cur.items() if k not in prev or prev[k] is not v)
    deleted = sorted(k for k in prev if k not in cur)
    g["__revive_prev"] = cur
    return json.dumps({"defined": defined, "deleted": deleted})
__revive_diff()
"""

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


class Kernel:
    def __init__(self, km: KernelManager, kc: BlockingKernelClient) -> None:
        self.km = km
        self.kc = kc

    @classmethod
    def start(cls) -> Kernel:
        km, kc = start_new_kernel(kernel_name="python3")
        return cls(km, kc)

    def run(self, code: str, *, silent: bool = False, timeout: float = 120) -> Reply:
        started = time.perf_counter()
        reply = self.kc.execute_interactive(
            code,
            silent=silent,
            store_history=not silent,
            allow_stdin=False,
            stop_on_error=False,
            timeout=timeout,
            output_hook=lambda msg: None,
        )
        content = reply["content"]
        error = (
            f"{content.get('ename')}: {content.get('evalue')}"
            if content["status"] != "ok"
            else None
        )
        return Reply(content["status"], error, time.perf_counter() - started)

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

    def reset(self) -> None:
        self.run("%reset -f", silent=True)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


class KernelPool:
    """Fresh kernels on demand, the next one already booting while the current one works."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._next: Future[Kernel] = self._executor.submit(Kernel.start)

    def fresh(self) -> Kernel:
        kernel = self._next.result()
        self._next = self._executor.submit(Kernel.start)
        return kernel

    def close(self) -> None:
        self._next.result().shutdown()
        self._executor.shutdown()


def record(
    kernel: Kernel, cells: Sequence[str], order: Sequence[int], *, ledger: bool = True
) -> tuple[nbformat.NotebookNode, float]:
    """Run `cells` in `order` and return the notebook as the product would have stamped it,
    with the total execution time."""
    kernel.reset()
    kernel.run(_DIFF_SETUP, silent=True)
    records: dict[int, dict[str, Any]] = {}
    total = 0.0
    for seq, index in enumerate(order):
        reply = kernel.run(cells[index])
        total += reply.seconds
        diff = json.loads(kernel.evaluate("__revive_diff()"))
        records[index] = {
            "seq": seq,
            "status": "ok" if reply.status == "ok" else "error",
            "ms": round(reply.seconds * 1000),
            **(diff if ledger else {}),
        }
    return notebook(cells, order, ledger=records), total
