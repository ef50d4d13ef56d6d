"""The per-process state: context id, ledger of executions, and the IPython/ipykernel hooks.

Every user execution fires IPython's ``pre_run_cell``/``post_run_cell`` (silent executions fire
neither, so they are never recorded); the outermost ``run_cell`` of each gets one record
(``records.execution_record``), kept in the ledger and added to its execute_reply metadata
under ``revive`` by wrapping ``init_metadata``/``finish_metadata`` on ``ip.kernel``. In a
kernel, a record is finished in the wait before its reply (``finisher``).

Memory is bounded: the ledger keeps the last ``MAX_RECORDS`` (10,000) records (older ones are
dropped and counted in ``dropped``), ~20 MB at most. Nothing here ever breaks a user
execution: every hook swallows its errors.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import time
import uuid
from collections import deque
from typing import Any

from . import handles, touches
from .changes import Changes, candidates
from .classes import ClassWatch
from .finisher import Finisher
from .names import is_owned_name
from .records import ExecutionRecord, execution_record, with_classes
from .tables import make_watch

TRACKER_VERSION = "1"
MAX_RECORDS = 10_000

_log = logging.getLogger(__name__)


class _Pending:
    __slots__ = ("changes", "info", "msg_id", "snapshot", "t0", "touches")

    def __init__(
        self,
        info: Any,
        msg_id: str | None,
        snapshot: Any,
        changes: Changes | None = None,
        touched: touches.Touches | None = None,
    ) -> None:
        self.info = info
        self.msg_id = msg_id
        self.snapshot = snapshot
        self.changes = changes
        self.touches = touched
        self.t0 = time.perf_counter()


class Tracker:
    """Tracks one IPython shell: ``start()`` hooks it up, ``stop()`` takes the hooks off."""

    def __init__(self, ip: Any) -> None:
        self.ip = ip
        self.context = str(uuid.uuid4())
        self.pid = os.getpid()
        self.started = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self.ledger: deque[ExecutionRecord] = deque(maxlen=MAX_RECORDS)
        self.seq = 0
        self.dropped = 0
        # name -> ledger position after which a checkpoint load bound it. Loads run silently
        # (no cell, no record), yet the values are new to this process: its own checkpoints
        # must hold them again, or a second restart could only recompute them.
        self.loaded: dict[str, int] = {}
        # Outermost run first; nested run_cell calls (a cell calling ip.run_cell) are folded
        # into the outer record because its namespace diff already covers them.
        self._stack: list[_Pending] = []
        self._watch = make_watch()
        self._request: str | None = None  # msg_id of the execute_request being handled
        self._ns: dict[str, Any] = {}  # user_ns and user_ns_hidden, read at each cell's start
        self._hidden: dict[str, Any] = {}
        self._replies: dict[str, ExecutionRecord] = {}  # msg_id -> record, until the reply
        self._finisher = Finisher()
        # Buffers the last execution hashed whole after it ran: its successor's pass before
        # reuses their checksums (``changes``).
        self._whole: dict[Any, Any] = {}
        # Element fingerprints of large atom-only containers, by their identities (``changes``).
        self._known: dict[Any, Any] = {}
        self._classes = ClassWatch()  # library classes of the namespace's values

    def start(self) -> None:
        try:  # what the namespace held before (a tracker loaded into a running kernel)
            self._classes.add(list(self.ip.user_ns.values()))
        except Exception:
            _log.debug("could not watch the namespace's classes", exc_info=True)
        self.ip.events.register("pre_run_cell", self.pre_run_cell)
        self.ip.events.register("post_run_cell", self.post_run_cell)
        try:
            touches.install()
        except Exception:  # calls are then wrapped for each cell only
            _log.debug("could not wrap the file functions", exc_info=True)
        try:
            if self.wrap_kernel() and self._replies_wait_for_me():
                self._finisher.take_wait(self.ip.kernel)
        except Exception:
            _log.debug("could not wrap kernel metadata hooks", exc_info=True)

    def stop(self) -> None:
        self._finisher.give_back()
        for event, hook in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            with contextlib.suppress(ValueError):  # not registered
                self.ip.events.unregister(event, hook)
        self.unwrap_kernel()
        for pending in self._stack:
            touches.stop(pending.touches)
        self._stack.clear()
        self._whole = {}  # what changes while it is off is not the next cell's doing
        self._known = {}
        with contextlib.suppress(Exception):
            touches.uninstall()
        self._replies.clear()

    def note_loaded(self, names: Any) -> None:
        """A checkpoint load bound ``names`` outside any execution (see ``loaded``); the
        classes of their values are watched from now on, as an execution's bindings are."""
        self.loaded.update(dict.fromkeys(names, self.seq))
        try:
            ns = self.ip.user_ns
            self._classes.add([ns[n] for n in names if n in ns])
        except Exception:
            _log.debug("could not watch the loaded values' classes", exc_info=True)

    def settle(self) -> None:
        """Finish the last record if it still waits for its reply: call before reading the
        ledger."""
        self._finisher.settle()

    # -- IPython events -------------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        try:
            if self._finisher.job is not None:  # the namespace watch is the last record's
                self._finisher.settle()  # until it is finished
            if self._stack:
                self._stack.append(_Pending(info, None, None))
                return
            ns = self._ns = self.ip.user_ns
            self._hidden = getattr(self.ip, "user_ns_hidden", None) or {}
            snapshot = self._watch.snapshot(ns, True)
            changes = self._fingerprint(getattr(info, "raw_cell", "") or "", ns)
            try:
                touched = touches.start()
            except Exception:  # no file records for this cell, the cell still runs
                _log.debug("could not watch files", exc_info=True)
                touched = None
            self._stack.append(_Pending(info, self._request, snapshot, changes, touched))
        except Exception:
            _log.debug("pre_run_cell failed", exc_info=True)

    def post_run_cell(self, result: Any) -> None:
        try:
            ended = time.perf_counter()
            info = getattr(result, "info", None)
            stack = self._stack
            # Match the pending run: IPython fires post_run_cell without pre_run_cell for
            # empty cells, so a post without its pre is ignored.
            index = len(stack) - 1
            if index < 0:
                return
            if stack[index].info is not info and result is not None:
                while index >= 0 and stack[index].info is not info:
                    index -= 1
                if index < 0:
                    return
            pending = stack[index]
            touches.stop(pending.touches)
            del self._stack[index:]
            if index == 0 and pending.snapshot is not None:
                ms = (ended - pending.t0) * 1000.0
                self._finisher.defer(lambda: self._record(pending, result, ms))
        except Exception:
            _log.debug("post_run_cell failed", exc_info=True)

    def _is_user(self, name: str) -> bool:
        """Not the interpreter's, and not a shell name still bound to IPython's own value
        (namespace and ``user_ns_hidden`` as of the cell's start)."""
        if type(name) is not str or (name[:1] == "_" and is_owned_name(name)):
            return False  # (every owned name starts with "_": most names skip the call)
        hidden = self._hidden
        return name not in hidden or hidden[name] is not self._ns.get(name)

    def _fingerprint(self, source: str, ns: dict[str, Any]) -> Changes | None:
        """Fingerprints of what the cell may change in place; None if that failed or there is
        nothing to fingerprint (either way no name is mutated or unchanged)."""
        try:
            names = candidates(source, ns, self._is_user)
            return Changes(ns, names, self._whole, self._known) if names else None
        except Exception:
            _log.debug("fingerprinting before the cell failed", exc_info=True)
            return None

    def _record(self, pending: _Pending, result: Any, ms: float) -> None:
        ns = self.ip.user_ns
        # Neither list holds the interpreter's names (is_owned_name); a shell name (``exit``)
        # counts once the user rebound it.
        defined, deleted = self._watch.diff(pending.snapshot, self._watch.snapshot(ns))
        hidden = self._hidden
        if not hidden.keys().isdisjoint(defined):
            defined = [n for n in defined if not (n in hidden and hidden[n] is ns.get(n))]
        mutated: list[str] = []
        unchanged: list[str] = []
        self._whole = {}
        if pending.changes is not None:
            try:
                mutated, unchanged = pending.changes.finish(None, self._is_user, self._watch)
                self._whole = pending.changes.whole
                # Bound to a new object that took the old one's address: the diff missed it.
                rebound = pending.changes.rebound
                if rebound:
                    defined = defined + [n for n in rebound if n not in defined]
            except Exception:
                _log.debug("fingerprinting after the cell failed", exc_info=True)
        touched = None
        if pending.touches is not None:
            try:
                # a memory map changed in place changed its file
                for path in handles.mapped(map(ns.get, mutated)) if mutated else ():
                    pending.touches.wrote(path)
                touched = pending.touches.record()
            except Exception:
                _log.debug("reading what the cell touched failed", exc_info=True)
        try:  # classes changed by the cell, then those of what it bound, from now on
            patched = self._classes.changed()
            if defined:
                self._classes.add(map(ns.get, defined))
            if patched:
                touched = with_classes(touched, patched)
        except Exception:
            _log.debug("reading the library classes failed", exc_info=True)
        info = pending.info
        self.seq += 1
        record = execution_record(
            seq=self.seq,
            cell=getattr(info, "cell_id", None),
            source=getattr(info, "raw_cell", "") or "",
            ok=result is not None and result.success,
            ms=ms,
            defined=defined,
            deleted=deleted,
            count=getattr(result, "execution_count", None),
            context=self.context,
            mutated=[n for n in mutated if n not in defined] if mutated else mutated,
            unchanged=unchanged,
            touched=touched,
        )
        if len(self.ledger) == self.ledger.maxlen:
            self.dropped += 1
        self.ledger.append(record)
        if pending.msg_id is not None:
            self._replies[pending.msg_id] = record
        try:
            touches.check()  # for the next cell, here in the wait rather than on its path
        except Exception:
            _log.debug("checking the file functions failed", exc_info=True)

    # -- ipykernel reply metadata ---------------------------------------------------------------

    def wrap_kernel(self) -> bool:
        """Wrap ``init_metadata``/``finish_metadata`` of ``ip.kernel`` (instance attributes)."""
        kernel = getattr(self.ip, "kernel", None)
        if kernel is None:
            return False
        init = getattr(kernel, "init_metadata", None)
        finish = getattr(kernel, "finish_metadata", None)
        if not callable(init) or not callable(finish):
            return False
        if getattr(finish, "_revive_wrapped", False):
            return True
        tracker = self

        def init_metadata(parent: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                tracker._request = parent["header"]["msg_id"]
            except Exception:
                tracker._request = None
            return init(parent, *args, **kwargs)

        def finish_metadata(parent: Any, metadata: Any, *args: Any, **kwargs: Any) -> Any:
            metadata = finish(parent, metadata, *args, **kwargs)
            # An interrupt stops the wait only: the reply carries what was finished. (try, not
            # contextlib.suppress: its __exit__ would run on the reply's path after the sleep.)
            began = None
            try:
                try:  # noqa: SIM105
                    began = tracker._finisher.before_reply()
                except KeyboardInterrupt:
                    pass
                record = tracker._replies.pop(parent["header"]["msg_id"], None)
                if tracker._replies:  # a request that never got its reply: don't leak
                    tracker._replies.clear()
                if record is not None and isinstance(metadata, dict):
                    metadata["revive"] = record
            except Exception:
                _log.debug("finish_metadata hook failed", exc_info=True)
            if began is not None:
                try:  # noqa: SIM105
                    tracker._finisher.wait_out(began)
                except KeyboardInterrupt:
                    pass
            return metadata

        init_metadata._revive_wrapped = True  # type: ignore[attr-defined]
        finish_metadata._revive_wrapped = True  # type: ignore[attr-defined]
        finish_metadata._revive_tracker = tracker  # type: ignore[attr-defined]
        kernel.init_metadata = init_metadata
        kernel.finish_metadata = finish_metadata
        return True

    def _replies_wait_for_me(self) -> bool:
        """The kernel's reply hook is this tracker's own (it settles this tracker's records)."""
        finish = getattr(getattr(self.ip, "kernel", None), "finish_metadata", None)
        return getattr(finish, "_revive_tracker", None) is self

    def unwrap_kernel(self) -> None:
        """Back to the kernel's own methods, unless something wrapped ours since."""
        kernel = getattr(self.ip, "kernel", None)
        own = getattr(kernel, "__dict__", {})
        for name in ("init_metadata", "finish_metadata"):
            if getattr(own.get(name), "_revive_wrapped", False):
                delattr(kernel, name)

    # -- queries --------------------------------------------------------------------------------

    def context_dict(self, since: int = 0) -> dict[str, Any]:
        self.settle()
        executions = [r for r in self.ledger if r["seq"] > since] if since else list(self.ledger)
        return {
            "context": self.context,
            "pid": self.pid,
            "started": self.started,
            "tracker": TRACKER_VERSION,
            "seq": self.seq,
            "dropped": self.dropped,
            "loaded": self.loaded,
            "executions": executions,
        }
