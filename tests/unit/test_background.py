"""The after-commit wake and the background worker behind the mail sender and the sealer."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from idp import background


def sqlite_session() -> Session:
    return Session(sa.create_engine("sqlite://"))


def test_a_hook_gets_what_the_committed_transaction_noted():
    got = []
    background.when_committed("test.committed", got.append)
    with sqlite_session() as session:
        session.execute(sa.text("SELECT 1"))
        background.note(session, "test.committed", [1, 2])
        session.commit()
        session.commit()  # a later transaction noted nothing
    assert got == [[1, 2]]


def test_a_rolled_back_note_is_forgotten():
    got = []
    background.when_committed("test.rolled_back", got.append)
    with sqlite_session() as session:
        session.execute(sa.text("SELECT 1"))
        background.note(session, "test.rolled_back", True)
        session.rollback()
        session.execute(sa.text("SELECT 1"))
        session.commit()
    assert got == []


def test_the_before_commit_converter_runs_while_the_transaction_is_open():
    got, open_at_conversion = [], []

    def convert(session, note):
        open_at_conversion.append(session.in_transaction())
        return [n * 10 for n in note]

    background.when_committed("test.converted", got.append, before=convert)
    with sqlite_session() as session:
        session.execute(sa.text("SELECT 1"))
        background.note(session, "test.converted", [1, 2])
        session.commit()
    assert got == [[10, 20]] and open_at_conversion == [True]


def test_the_worker_runs_what_wakes_brought_and_ends_when_idle():
    batches = []
    worker = background.Worker("test-worker", batches.append, daemon=True)
    worker.wake([1, 2])
    worker.join(30)
    worker.wake([3])
    worker.join(30)
    assert sorted(item for batch in batches for item in batch) == [1, 2, 3]
    assert worker._thread is None  # ended, not idling


def test_a_failing_run_does_not_stop_later_wakes():
    batches = []

    def work(batch):
        if batch == ["boom"]:
            raise RuntimeError("boom")
        batches.append(batch)

    worker = background.Worker("test-failing", work, daemon=True)
    worker.wake(["boom"])
    worker.join(30)
    worker.wake(["fine"])
    worker.join(30)
    assert batches == [["fine"]]


def test_stop_runs_what_is_pending_at_once_and_ends_the_thread():
    """The worker would idle for an hour and gather for an hour: stop cuts both short."""
    running, batches = threading.Event(), []

    def work(batch):
        batches.append(batch)
        running.set()

    worker = background.Worker("test-stop", work, daemon=True, idle_seconds=3600,
                               gather=lambda: 3600)
    worker.wake(["a"])
    worker.stop(30)
    assert running.is_set() and ["a"] in batches
    assert worker._thread is None
    worker.wake(["b"])  # a later wake starts a new thread
    worker.stop(30)
    assert ["b"] in batches
