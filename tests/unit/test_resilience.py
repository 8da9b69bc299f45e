"""The circuit breaker's states and the check deadline, without an app."""

from __future__ import annotations

import threading

import pytest

from idp.verification.errors import ServiceUnavailable
from idp.verification.resilience import Bulkhead, CircuitBreaker, Policy, deadline, time_left


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_breaker_opens_after_n_failures_in_a_row_and_lets_one_trial_through_after_the_cool_down():
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=3, open_seconds=30, clock=clock)
    for _ in range(2):
        breaker.failed()
    breaker.succeeded()  # a success in between starts the count again
    for _ in range(3):
        assert breaker.admit()
        breaker.failed()
    assert breaker.state == "open" and not breaker.admit()
    clock.now = 30
    assert breaker.state == "half-open"
    assert breaker.admit() and not breaker.admit()  # one trial at a time
    breaker.failed()
    assert breaker.state == "open" and not breaker.admit()
    clock.now = 60
    assert breaker.admit()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.admit()


def test_our_own_errors_do_not_open_the_breaker():
    bulkhead = Bulkhead("AD", Policy(failures_to_open=1))

    def broken(_):
        raise KeyError("a bug")

    for _ in range(3):
        with pytest.raises(KeyError):
            bulkhead.call(broken, "x")
    assert bulkhead.breaker.state == "closed"


def test_the_call_after_the_cap_fails_fast_while_the_others_are_in_flight():
    bulkhead = Bulkhead("AD", Policy(concurrent_calls=2))
    release, inside = threading.Event(), threading.Barrier(3)

    def hang(_):
        inside.wait()
        release.wait(10)

    threads = [threading.Thread(target=bulkhead.call, args=(hang, "x")) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    with pytest.raises(ServiceUnavailable, match="too many calls in flight"):
        bulkhead.call(hang, "x")
    release.set()
    for thread in threads:
        thread.join()
    assert bulkhead.call(lambda value: value, "free again") == "free again"


def test_an_inner_deadline_never_outlives_the_outer_one():
    assert time_left(5) == 5
    with deadline(2):
        with deadline(60):
            assert time_left() <= 2
        assert 0 < time_left(10) <= 2
    assert time_left() is None


def test_policy_takes_the_system_table_over_the_shared_one():
    table = {"FAILURES_TO_OPEN": 3, "DEADLINE_SECONDS": 8, "AD": {"CONCURRENT_CALLS": 2}}
    assert Policy.from_config(table, "AD") == Policy(3, 30, 8, 2)
    assert Policy.from_config(table, "DPIS") == Policy(3, 30, 8, 1)


def test_policy_refuses_values_that_would_close_the_system_off():
    with pytest.raises(ValueError, match="RESILIENCE"):
        Policy.from_config({"CONCURRENT_CALLS": 0}, "AD")
