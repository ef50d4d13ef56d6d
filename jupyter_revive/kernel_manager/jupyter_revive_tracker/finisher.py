"""Finishes each execution's record in the time ipykernel waits before its reply anyway.

After a cell, ipykernel flushes the output streams and then sleeps ``_execute_sleep`` (0.5 ms by
default) so that the output reaches the clients before the execute_reply. The record (namespace
diff, in-place changes, files) is only needed in that reply. So the tracker takes that wait over:
the kernel's own sleep is set to 0, and in ``finish_metadata`` (after the flushes, before the
reply) the record is finished and the kernel sleeps only what is left of its wait. The reply still
leaves at least ``_execute_sleep`` after the flushes; a record that takes longer delays it by the
difference only. (What the request's own ``user_expressions`` change, evaluated between the cell
and its reply, is the cell's too: JupyterLab sends none with cells.)

Every reader of the ledger calls ``settle`` first (the next cell, the server's queries), so no one
ever sees a record half made. Without an ipykernel that has this wait, records are finished at
once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)


class Finisher:
    def __init__(self) -> None:
        self.job: Callable[[], None] | None = None  # deferred, until settled
        self._kernel: Any = None
        self._wait = 0.0  # seconds the kernel waits between its flushes and its reply

    def take_wait(self, kernel: Any) -> bool:
        """Take over ``kernel``'s wait before its replies; False if it has none to take."""
        wait = getattr(kernel, "_execute_sleep", None)
        if type(wait) is not float or wait <= 0:
            return False
        kernel._execute_sleep = 0.0
        self._kernel, self._wait = kernel, wait
        return True

    def give_back(self) -> None:
        """The kernel waits on its own again (its value, unless someone changed it since)."""
        self.settle()
        kernel, self._kernel = self._kernel, None
        if kernel is not None and getattr(kernel, "_execute_sleep", None) == 0.0:
            kernel._execute_sleep = self._wait

    def defer(self, job: Callable[[], None]) -> None:
        """Finish ``job`` in the kernel's wait before its reply, or at once without a wait."""
        self.settle()
        if self._kernel is None:
            self._run(job)
        else:
            self.job = job

    def settle(self) -> None:
        """Finish the deferred job now, if one is waiting."""
        job, self.job = self.job, None
        if job is not None:
            self._run(job)

    def before_reply(self) -> float:
        """In the kernel's wait: finish the record; when the wait began (``perf_counter``), for
        ``wait_out``."""
        began = time.perf_counter()
        self.settle()
        return began

    def wait_out(self, began: float) -> None:
        """Sleep what is left of the wait begun at ``began`` (none once it was given back: the
        reply hook outlives ``give_back`` when someone wrapped it). The reply hook puts the
        record in first: code run after the sleep meets caches the other threads used, and is
        on the reply's path."""
        if self._kernel is None:
            return
        left = self._wait - (time.perf_counter() - began)
        if left > 0:
            time.sleep(left)

    @staticmethod
    def _run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            _log.debug("finishing a record failed", exc_info=True)
