"""The in-memory rate-limit counts (idp/ratelimit.py MemoryCounts): no thread per hit, the
same answers as the library's own storage, and old entries still dropped."""

from __future__ import annotations

import threading

import limits.storage.memory as memory
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from idp.ratelimit import MemoryCounts


def test_the_library_still_has_the_private_names_we_replace():
    assert hasattr(memory.MemoryStorage, "_MemoryStorage__schedule_expiry")
    assert hasattr(memory.MemoryStorage, "_MemoryStorage__expire_events")


def test_hits_start_no_thread(monkeypatch):
    started = []

    class CountedTimer(threading.Timer):
        def start(self):
            started.append(self)
            super().start()

    monkeypatch.setattr(memory.threading, "Timer", CountedTimer)
    limiter = MovingWindowRateLimiter(MemoryCounts())
    started.clear()  # the constructor's own first timer
    for _ in range(200):
        limiter.hit(parse("1000 per minute"), "token", "client")
    assert started == []


def test_the_answers_are_the_librarys():
    ours, theirs = MovingWindowRateLimiter(MemoryCounts()), MovingWindowRateLimiter(memory.MemoryStorage())
    limit = parse("3 per minute")
    answers = [(ours.hit(limit, "k"), theirs.hit(limit, "k")) for _ in range(5)]
    assert answers == [(True, True)] * 3 + [(False, False)] * 2
    assert ours.test(limit, "k") is theirs.test(limit, "k") is False


def test_old_entries_are_dropped_at_most_once_a_second(monkeypatch):
    clock = {"wall": 1_000_000.0, "monotonic": 50.0}
    monkeypatch.setattr(memory.time, "time", lambda: clock["wall"])
    storage = MemoryCounts()
    monkeypatch.setattr("idp.ratelimit.time.monotonic", lambda: clock["monotonic"])
    storage._expired_at = clock["monotonic"]
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("10 per 1 second")
    for _ in range(5):
        limiter.hit(limit, "k")
    clock["wall"] += 2  # the entries are past their window
    limiter.hit(limit, "k")  # within a second of the last trimming: nothing dropped yet
    assert len(next(iter(storage.events.values()))) == 6
    clock["monotonic"] += 1.5
    limiter.hit(limit, "k")  # trims the five old ones first, then counts this hit
    assert len(next(iter(storage.events.values()))) == 2
