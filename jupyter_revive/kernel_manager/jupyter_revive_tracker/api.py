"""What the server asks for: JSON strings, read through silent ``user_expressions``.

The server calls these as ``sys.modules['jupyter_revive_tracker'].context_json()`` (and so on),
so they answer for the process's one tracker, whichever copy of the package loaded it.
"""

from __future__ import annotations

import json
from typing import Any

from . import checkpoint, places
from .ledger import Tracker
from .names import user_names
from .summaries import summarize_variables

# Names only, for planning: a kernel may hold more names than a summary lists.
MAX_NAME_LIST = 100_000

_tracker: Tracker | None = None


def current() -> Tracker | None:
    """The tracker of this process, if one is loaded."""
    return _tracker


def _require() -> Tracker:
    if _tracker is None:
        raise RuntimeError("jupyter-revive tracker is not loaded")
    _tracker.settle()
    return _tracker


def context_json(since: int = 0) -> str:
    """``{"context","pid","started","tracker","seq","dropped","loaded","executions":[record...]}``
    (``loaded``: name -> the ledger position after which a checkpoint load bound it)."""
    return json.dumps(_require().context_dict(since), separators=(",", ":"))


def names_json() -> str:
    """``{"context","names":[...],"truncated"}``: every user name (no values), sorted."""
    tracker = _require()
    ip = tracker.ip
    names = sorted(user_names(ip.user_ns, getattr(ip, "user_ns_hidden", {})))
    return json.dumps(
        {
            "context": tracker.context,
            "names": names[:MAX_NAME_LIST],
            "truncated": len(names) > MAX_NAME_LIST,
        },
        separators=(",", ":"),
    )


def variables_json(names: list[str] | None = None, detail: bool = False) -> str:
    """Bounded summary of user variables (at most ``MAX_VARIABLES``, ~120-char reprs).

    ``{"context","variables":[{"name","type","shape"?,"len"?,"dtype"?,"columns"?,"repr"}],
    "total","truncated","missing"? (when names are given),"partial"? (time budget hit)}``.
    ``detail=True`` adds a ``detail`` text (at most 4 KB) per variable: head/describe for
    DataFrames, a fuller repr otherwise, the source of functions and classes.
    """
    tracker = _require()
    ip = tracker.ip
    answer: dict[str, Any] = {"context": tracker.context}
    answer.update(summarize_variables(ip.user_ns, getattr(ip, "user_ns_hidden", {}), names, detail))
    return json.dumps(answer, separators=(",", ":"), default=str)


def checkpoint_json(
    folder: str | None,
    names: list[str] | None = None,
    max_bytes: int | None = None,
    into: list[str] | None = None,
) -> str:
    """Save user variables (all, or ``names``) into ``folder`` (``checkpoint.save``), or with
    ``folder=None`` into this host's own folder for ``into`` = [notebook, checkpoint].

    ``{"context","seq","where","groups":[{"names","blobs":[{"file","sha256","bytes"}]}],
    "skipped","replay","bytes","ms"}``; ``seq``: the ledger position the values belong to,
    ``where``: the folder written.
    """
    if folder is None:
        if not into or len(into) != 2:
            raise ValueError("a checkpoint needs a folder or [notebook, checkpoint]")
        folder = places.folder(into[0], into[1])
    tracker = _require()
    ip = tracker.ip
    present = user_names(ip.user_ns, getattr(ip, "user_ns_hidden", {}))
    if names is not None:
        wanted = set(names)
        present = [n for n in present if n in wanted]
    answer: dict[str, Any] = {"context": tracker.context, "seq": tracker.seq, "where": folder}
    answer.update(checkpoint.save(ip.user_ns, present, folder, max_bytes))
    return json.dumps(answer, separators=(",", ":"))


def prune_json(notebook: str, keep: list[str]) -> str:
    """Remove this host's checkpoints of ``notebook`` that the server no longer keeps:
    ``{"removed": [ids]}``."""
    return json.dumps({"removed": places.prune(notebook, keep)}, separators=(",", ":"))


def load_json(folder: str, signed: str) -> str:
    """Load the groups of ``signed`` (JSON, hashes verified by the server) from ``folder``.

    ``{"context","loaded":[names],"refused":[{"name","reason"}],"ms"}``.
    """
    tracker = _require()
    answer: dict[str, Any] = {"context": tracker.context}
    answer.update(checkpoint.load(tracker.ip.user_ns, folder, json.loads(signed)))
    tracker.note_loaded(answer.get("loaded", ()))
    return json.dumps(answer, separators=(",", ":"))
