"""Rate limits: named budgets counted with the ``limits`` library (moving window), in memory by
default and in Redis when configured (so several instances share one count).

Each budget is spent and tested where its rule lives (sign-in, signup, token endpoint, ...);
nothing is checked on every request, so a request that spends no budget costs nothing here.
(Flask-Limiter, used before, ran its per-route check before every request although no route
had a declared limit: about a tenth of a userinfo request's CPU.)"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION = "idp.limiter"


class MemoryCounts(MemoryStorage):
    """The library's in-memory storage, with old entries dropped by its callers at most once
    a second. The library starts a timer thread for that after a hit whenever the last one has
    ended, so about one thread per token request under load (a sampling profile of the bench
    found 3 % of a worker's time there). The counts never depend on that trimming: every test
    of a window compares the entries' times, so this only bounds the memory."""

    EXPIRE_EVERY_SECONDS = 1.0

    def __init__(self):
        super().__init__()
        self._expired_at = time.monotonic()

    # The library's private names (``__schedule_expiry``, ``__expire_events``): a test checks
    # that they are still there, so an upgrade that renames them fails loudly.
    def _MemoryStorage__schedule_expiry(self) -> None:
        """Drop old entries now if the last time was a second ago or more."""
        moment = time.monotonic()
        if moment - self._expired_at >= self.EXPIRE_EVERY_SECONDS:
            self._expired_at = moment
            self._MemoryStorage__expire_events()


def init_limiter(app: Flask) -> MovingWindowRateLimiter:
    """The app's counter of budgets: in Redis when ``REDIS_URL`` is set, else in memory."""
    redis_url = app.config["REDIS_URL"]
    storage = storage_from_string(redis_url, key_prefix="moc-idp") if redis_url else MemoryCounts()
    limiter = app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)
    return limiter


@functools.lru_cache(maxsize=64)
def _parsed(text: str):
    """``limits.parse`` once per distinct setting, not on every spend and test."""
    return parse(text)


@dataclass(frozen=True)
class Throttle:
    """A named failure budget, e.g. sign-in failures per account: ``LOGIN_PER_ACCOUNT``."""

    name: str

    def _limit(self):
        return _parsed(current_app.config["RATE_LIMITS"][self.name])

    def _strategy(self):
        return current_app.extensions[EXTENSION]

    @staticmethod
    def _key(key: str) -> str:
        # The shared store (Redis) never sees an email address, only its digest.
        return hashlib.sha256(key.encode()).hexdigest()

    def exhausted(self, key: str) -> bool:
        """``key`` has no budget left in the current window."""
        return not self._strategy().test(self._limit(), self.name, self._key(key))

    def spend(self, key: str) -> None:
        """Spend one unit of ``key``'s budget."""
        self._strategy().hit(self._limit(), self.name, self._key(key))

    def reset(self, key: str) -> None:
        """Give ``key`` its whole budget back."""
        self._strategy().clear(self._limit(), self.name, self._key(key))

    def used(self, key: str) -> bool:
        """True when ``key`` has spent any of its budget in the current window."""
        limit = self._limit()
        stats = self._strategy().get_window_stats(limit, self.name, self._key(key))
        return stats.remaining < limit.amount


LOGIN_PER_ACCOUNT = Throttle("LOGIN_PER_ACCOUNT")
LOGIN_PER_ACCOUNT_IP = Throttle("LOGIN_PER_ACCOUNT_IP")
LOGIN_PER_IP = Throttle("LOGIN_PER_IP")
SIGNUP_PER_IP = Throttle("SIGNUP_PER_IP")
PASSWORD_RESET_PER_IP = Throttle("PASSWORD_RESET_PER_IP")
IDENTITY_CHECK_PER_ACCOUNT = Throttle("IDENTITY_CHECK_PER_ACCOUNT")
IDENTITY_CHECK_PER_CITIZEN_ID = Throttle("IDENTITY_CHECK_PER_CITIZEN_ID")
IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID = Throttle("IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID")
STAFF_CHECK_PER_ACCOUNT = Throttle("STAFF_CHECK_PER_ACCOUNT")
PASSWORD_CHANGE_PER_ACCOUNT = Throttle("PASSWORD_CHANGE_PER_ACCOUNT")
