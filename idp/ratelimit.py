"""Rate limits: named budgets counted with the ``limits`` library (moving window), in memory by
default and in Redis when configured (so several instances share one count).

Each budget is spent and tested where its rule lives (sign-in, signup, token endpoint, ...);
nothing is checked on every request, so a request that spends no budget costs nothing here.
(Flask-Limiter, used before, ran its per-route check before every request although no route
had a declared limit: about a tenth of a userinfo request's CPU.)"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION = "idp.limiter"


def init_limiter(app: Flask) -> MovingWindowRateLimiter:
    """The app's counter of budgets: in Redis when ``REDIS_URL`` is set, else in memory."""
    storage = storage_from_string(app.config["REDIS_URL"] or "memory://", key_prefix="moc-idp")
    limiter = app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)
    return limiter


@dataclass(frozen=True)
class Throttle:
    """A named failure budget, e.g. sign-in failures per account: ``LOGIN_PER_ACCOUNT``."""

    name: str

    def _limit(self):
        return parse(current_app.config["RATE_LIMITS"][self.name])

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
