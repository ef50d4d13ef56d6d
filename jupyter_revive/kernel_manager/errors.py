"""Why a kernel could not answer a tracker query. No HTTP here: handlers.py maps these once."""

from __future__ import annotations


class KernelQueryError(Exception):
    """Base class; ``kernel_id`` names the kernel that was asked."""

    def __init__(self, kernel_id: str, message: str) -> None:
        super().__init__(message)
        self.kernel_id = kernel_id


class KernelNotFound(KernelQueryError):
    @classmethod
    def for_id(cls, kernel_id: str) -> KernelNotFound:
        return cls(kernel_id, f"No kernel with id {kernel_id}.")


class NoTracker(KernelQueryError):
    """The kernel cannot have a tracker (not Python), or has none and injection is off/failed."""

    @classmethod
    def not_python(cls, kernel_id: str, language: str) -> NoTracker:
        return cls(
            kernel_id,
            f"Kernel {kernel_id} runs {language or 'an unknown language'}; "
            "jupyter-revive tracks Python (IPython) kernels only.",
        )

    @classmethod
    def absent(cls, kernel_id: str, reason: str) -> NoTracker:
        return cls(kernel_id, f"Kernel {kernel_id} has no jupyter-revive tracker: {reason}")


class KernelBusy(KernelQueryError):
    """No answer within the timeout: the kernel is running something (our request stays queued,
    runs silently after it, and its late reply is dropped)."""

    @classmethod
    def timed_out(cls, kernel_id: str, timeout: float) -> KernelBusy:
        return cls(kernel_id, f"Kernel {kernel_id} is busy: no answer within {timeout:g} s.")

    @classmethod
    def unanswered(cls, kernel_id: str, why: str) -> KernelBusy:
        """The kernel lost the request, or its connection stopped being read; asking again
        (on a new connection) may succeed."""
        return cls(kernel_id, f"Kernel {kernel_id} did not answer: {why}. Try again.")


class KernelDead(KernelQueryError):
    @classmethod
    def not_alive(cls, kernel_id: str, state: str | None = None) -> KernelDead:
        detail = f" (state: {state})" if state else ""
        return cls(kernel_id, f"Kernel {kernel_id} is not running{detail}.")
