"""Rate limits: Flask-Limiter per app, in memory by default and in Redis when configured
(so several instances share one count)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

EXTENSION = "idp.limiter"


def init_limiter(app: Flask) -> Limiter:
    """Give the app its Flask-Limiter (Redis when ``REDIS_URL`` is set, memory otherwise)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["REDIS_URL"] or "memory://",
        strategy="moving-window",
        key_prefix="moc-idp",
    )
    app.extensions[EXTENSION] = limiter
    return limiter


@dataclass(frozen=True)
class Throttle:
    """A named failure budget, e.g. sign-in failures per account: ``LOGIN_PER_ACCOUNT``."""

    name: str

    def _limit(self):
        return parse(current_app.config["RATE_LIMITS"][self.name])

    def _strategy(self):
        return current_app.extensions[EXTENSION].limiter

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
