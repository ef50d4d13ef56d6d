"""The per-execution record: what the tracker adds to execute_reply metadata under ``revive``.

One record per outermost ``run_cell`` of a user execution (name lists as tuples)::

    {"seq", "cell", "code", "status", "ms", "defined", "deleted", "mutated", "count", "context"}

plus ``unchanged`` when a name was seen unchanged, ``files`` and ``env`` when the execution
touched any, ``truncated`` when a list was cut: absent means empty, which keeps the reply that
carries the record (serialized, signed and parsed for every cell) and the notebook small.

``code`` is ``code_sha`` of the cell's source, the same function the server uses to match a
notebook cell to its record. ``mutated``/``unchanged`` are what ``changes`` observed of live
objects (changed in place; fully fingerprinted and equal); ``files`` and ``env`` what
``touches`` saw (paths read, written, removed; environment variable names, a working-directory
change; library settings and global random generators changed, read by ``settings``). The name
lists are sorted and capped at ``MAX_NAMES``; ``truncated`` says a list was cut (a cut
``unchanged`` only loses precision).
A record costs about 0.5-3 KB.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import Any, Literal, TypedDict

MAX_NAMES = 100


class _Files(TypedDict):
    read: list[str]  # as ``touches.shown`` gives them, at most touches.MAX_PATHS each
    written: list[str]
    removed: list[str]


class Files(_Files, total=False):  # (``NotRequired`` is 3.11+; kernels may run 3.10)
    listed: list[str]  # folders listed (``os.listdir``, ``glob``), only when there are any


class _Environment(TypedDict):
    vars: list[str]  # names of environment variables set or removed, never their values
    cwd: bool  # the working directory changed
    # library and interpreter settings changed, as "pandas:display.precision" ("settings")
    options: list[str]
    random: list[str]  # global random generators drawn from or seeded: "numpy.random", "random"


class Environment(_Environment, total=False):
    classes: list[str]  # library classes changed in place, "pandas.DataFrame" ("classes")


class Touched(TypedDict):
    """What ``touches`` gives for one execution."""

    files: Files
    env: Environment
    truncated: bool  # a list was cut at touches.MAX_PATHS


# What most executions touched: nothing. One object shared by their records (records are only
# ever serialized, never changed), so that they cost no allocation and no ledger memory.
UNTOUCHED: Touched = {
    "files": {"read": [], "written": [], "removed": []},
    "env": {"vars": [], "cwd": False, "options": [], "random": []},
    "truncated": False,
}


class ExecutionRecord(TypedDict, total=False):
    seq: int  # 1, 2, ... per kernel process
    cell: str | None  # the frontend's cell id (execute_request metadata), if it sent one
    code: str  # code_sha(source)
    status: Literal["ok", "error"]
    ms: float  # wall time of the cell, rounded to 0.01 ms
    # Tuples, not lists: the ledger keeps thousands of records, and a record that holds only
    # atoms and tuples adds no list for every collection of the garbage collector to walk; an
    # empty one is the shared ``()``, no allocation at all. JSON makes them arrays.
    defined: tuple[str, ...]  # names bound or rebound (by identity), sorted
    deleted: tuple[str, ...]
    mutated: tuple[str, ...]  # bound to the same object before and after, changed in place
    unchanged: tuple[str, ...]  # fingerprinted whole before and after, and equal
    files: Files
    env: Environment
    count: int | None  # execution_count
    context: str  # the kernel process's context id
    truncated: bool  # a name list was cut at MAX_NAMES


def with_classes(touched: Touched | None, classes: list[str]) -> Touched:
    """``touched`` (a copy: ``UNTOUCHED`` is shared) saying that ``classes`` were changed."""
    base = touched or UNTOUCHED
    env: Environment = {**base["env"], "classes": classes[:MAX_NAMES]}
    return {**base, "env": env, "truncated": base["truncated"] or len(classes) > MAX_NAMES}


def _sha256() -> Any:
    """CPython's own SHA-256 (``_sha256``, ``_sha2`` from 3.12) where there is one: the same
    digest as OpenSSL's, and a much shorter code path, which counts in a hook that runs with the
    caches cold after every cell; else hashlib's."""
    for module, name in (("_sha2", "sha256"), ("_sha256", "sha256")):
        try:
            fn = getattr(importlib.import_module(module), name)
            if fn(b"revive").hexdigest() == hashlib.sha256(b"revive").hexdigest():
                return fn
        except Exception:
            continue
    return hashlib.sha256


_SHA256 = _sha256()


def code_sha(source: str) -> str:
    """First 16 hex digits of the SHA-256 of ``source`` as UTF-8.

    ``surrogatepass``: a lone surrogate (``'\\ud800'``, valid in a notebook's JSON) still hashes,
    to its UTF-8-style bytes; any other text hashes exactly as plain UTF-8.
    """
    return _SHA256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]  # type: ignore[no-any-return]


def capped(names: list[str]) -> tuple[list[str], bool]:
    """``names`` sorted (in place) and cut at ``MAX_NAMES``; True when it was cut."""
    names.sort()
    if len(names) > MAX_NAMES:
        return names[:MAX_NAMES], True
    return names, False


def execution_record(
    seq: int,
    cell: str | None,
    source: str,
    ok: bool,
    ms: float,
    defined: list[str],
    deleted: list[str],
    count: int | None,
    context: str,
    mutated: list[str] | None = None,
    unchanged: list[str] | None = None,
    touched: Touched | None = None,
) -> ExecutionRecord:
    mutated = mutated or []
    unchanged = unchanged or []
    touched = touched or UNTOUCHED
    cut = touched["truncated"]
    if max(len(defined), len(deleted), len(mutated), len(unchanged)) <= MAX_NAMES:
        defined.sort()  # in place, as capped() does: no copies after every cell
        deleted.sort()
        mutated.sort()
        unchanged.sort()
    else:
        defined, cut_defined = capped(defined)
        deleted, cut_deleted = capped(deleted)
        mutated, cut_mutated = capped(mutated)
        unchanged, cut_unchanged = capped(unchanged)
        cut = cut or cut_defined or cut_deleted or cut_mutated or cut_unchanged
    record: ExecutionRecord = {
        "seq": seq,
        "cell": cell,
        "code": code_sha(source),
        "status": "ok" if ok else "error",
        "ms": int(ms * 100.0 + 0.5) / 100.0,  # round() formats digits: slower, colder code
        "defined": tuple(defined),
        "deleted": tuple(deleted),
        "mutated": tuple(mutated),  # always: present means observed, even when none changed
        "count": count,
        "context": context,
    }
    if unchanged:
        record["unchanged"] = tuple(unchanged)
    if touched is not UNTOUCHED:
        record["files"] = touched["files"]
        record["env"] = touched["env"]
    if cut:
        record["truncated"] = True
    return record
