"""The tracker's finisher, in-process: a record is finished in the kernel's wait before its reply,
and the reply still waits at least as long as the kernel would have. The kernel here is a
stand-in holding ipykernel's one setting; the kernel tests run the real one."""

from __future__ import annotations

import time
from functools import partial
from types import SimpleNamespace

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import finisher as finisher_module
from jupyter_revive.kernel_manager.jupyter_revive_tracker.finisher import Finisher

WAIT = 0.1  # seconds; ipykernel's default is 0.0005, longer here so a busy loop measures it


def kernel(wait: object = WAIT) -> SimpleNamespace:
    return SimpleNamespace(_execute_sleep=wait)


def test_without_a_kernel_wait_a_record_is_finished_at_once() -> None:
    for stand_in in (None, kernel(0.0), kernel(0), SimpleNamespace()):
        finisher = Finisher()
        assert finisher.take_wait(stand_in) is False
        done: list[int] = []
        finisher.defer(partial(done.append, 1))
        assert done == [1]


def busy(seconds: float) -> None:
    """A record that takes ``seconds`` of the main thread."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What the finisher asks to sleep (not slept: no timing in the asserts)."""
    asked: list[float] = []
    monkeypatch.setattr(finisher_module.time, "sleep", asked.append)
    return asked


def test_a_record_is_finished_in_the_wait_and_the_rest_is_slept(slept: list[float]) -> None:
    finisher, k = Finisher(), kernel()
    assert finisher.take_wait(k) is True
    assert k._execute_sleep == 0.0  # the kernel no longer sleeps on its own
    done: list[int] = []

    def record() -> None:
        busy(WAIT / 4)
        done.append(1)

    finisher.defer(record)
    assert done == []  # held until the reply (or a reader) needs it
    finisher.wait_out(finisher.before_reply())
    assert done == [1]
    assert len(slept) == 1 and 0 < slept[0] <= WAIT * 3 / 4  # the record's time was waited
    # no record (a silent execution): about the whole wait
    finisher.wait_out(finisher.before_reply())
    assert len(slept) == 2 and WAIT * 3 / 4 < slept[1] <= WAIT


def test_a_record_longer_than_the_wait_adds_no_sleep(slept: list[float]) -> None:
    finisher = Finisher()
    finisher.take_wait(kernel())
    finisher.defer(lambda: busy(WAIT * 1.5))
    finisher.wait_out(finisher.before_reply())
    assert slept == []


def test_readers_settle_first_and_each_record_is_finished_once() -> None:
    finisher = Finisher()
    finisher.take_wait(kernel())
    done: list[int] = []
    finisher.defer(lambda: done.append(1))
    finisher.defer(lambda: done.append(2))  # the next cell settles the one before
    assert done == [1]
    finisher.settle()
    finisher.settle()
    assert done == [1, 2]


def test_a_failing_record_is_logged_and_the_reply_still_waits(
    caplog: pytest.LogCaptureFixture, slept: list[float]
) -> None:
    finisher = Finisher()
    finisher.take_wait(kernel())

    def fails() -> None:
        raise ValueError("boom")

    finisher.defer(fails)
    with caplog.at_level("DEBUG"):
        finisher.wait_out(finisher.before_reply())
    assert len(slept) == 1 and slept[0] > 0
    assert "finishing a record failed" in caplog.text


def test_giving_the_wait_back_finishes_the_record_and_keeps_a_later_setting() -> None:
    finisher, k = Finisher(), kernel()
    finisher.take_wait(k)
    done: list[int] = []
    finisher.defer(lambda: done.append(1))
    finisher.give_back()
    assert done == [1] and k._execute_sleep == WAIT
    finisher, k = Finisher(), kernel()
    finisher.take_wait(k)
    k._execute_sleep = 0.25  # someone configured it since: theirs stays
    finisher.give_back()
    assert k._execute_sleep == 0.25


def test_once_the_wait_is_given_back_the_reply_hook_sleeps_no_more(slept: list[float]) -> None:
    """The kernel sleeps its own wait again; a reply hook that stays (someone wrapped it after the
    tracker) must not add a second one."""
    finisher, k = Finisher(), kernel()
    finisher.take_wait(k)
    finisher.give_back()
    assert k._execute_sleep == WAIT
    done: list[int] = []
    finisher.defer(lambda: done.append(1))  # finished at once: no wait is held
    finisher.wait_out(finisher.before_reply())
    assert done == [1] and slept == []
