"""Bulkheads around the external systems (DOPA, AD, DPIS): a circuit breaker, a cap on
concurrent calls, and a total deadline per check, so one system that hangs or fails cannot
hold every worker thread or make members wait for retries that cannot succeed.

``guard(adapter, system, policy)`` wraps a ``CitizenRegistry``, ``StaffDirectory`` or
``HrSystem``; the services see the same protocol and get ``ServiceUnavailable`` at once when
the breaker is open or the system already has ``CONCURRENT_CALLS`` calls in flight.

Config: the ``[RESILIENCE]`` table, with per-system overrides in ``[RESILIENCE.DOPA]``,
``[RESILIENCE.AD]`` and ``[RESILIENCE.DPIS]``:

- ``FAILURES_TO_OPEN`` (5): consecutive failures (``ServiceUnavailable``) that open the breaker.
- ``OPEN_SECONDS`` (30): how long an open breaker answers "unavailable" without calling; then
  one trial call decides whether it closes again.
- ``DEADLINE_SECONDS`` (8): the total time one check may take, retries included; the adapters
  read what is left with ``time_left()`` and stop retrying when it is spent.
- ``CONCURRENT_CALLS`` (1): calls to the system in flight at once per process; one more fails
  fast as unavailable instead of waiting for a thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from idp.metrics import observe_external
from idp.outbound import ServiceUnavailable, deadline, time_left

log = logging.getLogger(__name__)
POLICY_KEYS = ("FAILURES_TO_OPEN", "OPEN_SECONDS", "DEADLINE_SECONDS", "CONCURRENT_CALLS")


def check_time_left(system: str) -> float | None:
    """``time_left()``, or ``ServiceUnavailable`` when the deadline has passed."""
    left = time_left()
    if left is not None and left <= 0:
        raise ServiceUnavailable(system, "deadline passed")
    return left


def whole_seconds_left(limit: float) -> int:
    """``limit`` clipped to the time left, rounded up to whole seconds (at least 1)."""
    return max(1, math.ceil(time_left(limit) or 0))


@dataclass(frozen=True)
class Policy:
    """The bulkhead settings of one system (see the module docstring)."""

    failures_to_open: int = 5
    open_seconds: float = 30
    deadline_seconds: float = 8
    concurrent_calls: int = 4

    def __post_init__(self):
        if min(self.failures_to_open, self.concurrent_calls) < 1 or min(
                self.open_seconds, self.deadline_seconds) <= 0:
            raise ValueError("[RESILIENCE] values must be positive (FAILURES_TO_OPEN and "
                             "CONCURRENT_CALLS at least 1)")

    @classmethod
    def from_config(cls, table: Mapping, system: str) -> Policy:
        """The ``[RESILIENCE]`` table with the ``[RESILIENCE.<system>]`` overrides."""
        values = {**{k: table[k] for k in POLICY_KEYS if k in table}, **table.get(system, {})}
        return cls(int(values.get("FAILURES_TO_OPEN", 5)), float(values.get("OPEN_SECONDS", 30)),
                   float(values.get("DEADLINE_SECONDS", 8)), int(values.get("CONCURRENT_CALLS", 1)))


class CircuitBreaker:
    """Closed → open after ``failures_to_open`` failures in a row → after ``open_seconds`` one
    trial call (half-open) → closed again on success, open again on failure.

    Our own, not ``pybreaker``'s: pybreaker holds one lock around the protected call itself
    (https://github.com/danielfm/pybreaker/issues/55), so every lookup of a system would wait
    for the one before it, the opposite of a bulkhead. Here the lock guards only the counters.
    """

    def __init__(self, failures_to_open: int, open_seconds: float, clock=time.monotonic):
        self.failures_to_open, self.open_seconds, self.clock = failures_to_open, open_seconds, clock
        self._lock = threading.Lock()
        self._failures, self._opened_at, self._trial = 0, None, False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self.clock() < self._opened_at + self.open_seconds else "half-open"

    def admit(self) -> bool:
        """May a call go ahead? While half-open, only one trial at a time."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self.clock() < self._opened_at + self.open_seconds or self._trial:
                return False
            self._trial = True
            return True

    def succeeded(self) -> None:
        """A call went through: the breaker closes."""
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def abandoned(self) -> None:
        """The call ended without a verdict on the system (our own error)."""
        with self._lock:
            self._trial = False

    def failed(self) -> None:
        """A call failed: count it, and open the breaker at the threshold."""
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.failures_to_open:
                self._opened_at, self._trial = self.clock(), False


class Bulkhead:
    """Breaker, concurrency cap and deadline for the calls to one system."""

    def __init__(self, system: str, policy: Policy):
        self.system, self.policy = system, policy
        self.slots = threading.BoundedSemaphore(policy.concurrent_calls)
        self.breaker = CircuitBreaker(policy.failures_to_open, policy.open_seconds)

    def call(self, function: Callable, *args):
        """``function(*args)`` inside the bulkhead; ``ServiceUnavailable`` when refused."""
        return observe_external(self.system, self.breaker, self._guarded_call, function, *args)

    def _guarded_call(self, function: Callable, *args):
        if not self.slots.acquire(blocking=False):
            log.warning("%s: %d calls in flight; refused one more", self.system,
                        self.policy.concurrent_calls)
            raise ServiceUnavailable(self.system, "too many calls in flight")
        try:
            if not self.breaker.admit():
                raise ServiceUnavailable(self.system, "circuit open after repeated failures")
            return self._run(function, *args)
        finally:
            self.slots.release()

    def _run(self, function: Callable, *args):
        try:
            with deadline(self.policy.deadline_seconds):
                result = function(*args)
        except ServiceUnavailable:
            self.breaker.failed()
            raise
        except BaseException:
            # Only "cannot reach it" counts as a failure; a bug in our code must not open it.
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return result


class GuardedCitizenRegistry:
    """A ``CitizenRegistry`` whose checks go through a ``Bulkhead``."""

    def __init__(self, inner, bulkhead: Bulkhead):
        self.inner, self.bulkhead = inner, bulkhead

    @property
    def needs_laser_code(self) -> bool:
        """Whether the guarded registry needs the laser code."""
        return self.inner.needs_laser_code

    def check(self, person):
        """See ``CitizenRegistry.check``."""
        return self.bulkhead.call(self.inner.check, person)


class GuardedLookup:
    """A ``StaffDirectory`` or ``HrSystem`` whose lookups go through a ``Bulkhead``."""

    def __init__(self, inner, bulkhead: Bulkhead):
        self.inner, self.bulkhead = inner, bulkhead

    def find_by_citizen_id(self, citizen_id: str):
        """See ``StaffDirectory`` / ``HrSystem.find_by_citizen_id``."""
        return self.bulkhead.call(self.inner.find_by_citizen_id, citizen_id)


def guard(adapter, system: str, table: Mapping):
    """``adapter`` behind a bulkhead configured by the ``[RESILIENCE]`` table for ``system``."""
    bulkhead = Bulkhead(system, Policy.from_config(table, system))
    if hasattr(adapter, "check"):
        return GuardedCitizenRegistry(adapter, bulkhead)
    return GuardedLookup(adapter, bulkhead)
