"""``GdxCitizenRegistry``: the DOPA check through DGA's Government Data Exchange (GDX) REST API.

Two calls, both GET:

1. ``{base}/ws/auth/validate?ConsumerSecret=..&AgentID=..`` with header ``Consumer-Key`` answers
   ``{"Result": "<token>"}``. A token dies after 60 idle minutes; we renew it after
   ``renew_idle_seconds`` (55 minutes) without use, and once more if the API answers 401.
2. ``{base}/ws/dopa/verification/personal?CitizenID=&FirstName=&LastName=&BEBirthDate=&LaserCode=``
   with headers ``Consumer-Key`` and ``Token`` answers ``{"Result": true | false}`` (true: the
   card is valid and matches; false: it does not match), or HTTP 500 with DOPA's code in the
   body, ``{"Code": 2 | 4 | 5, "Message": ".."}`` (``code`` is accepted too).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import requests

from idp.outbound import HttpAnswer, OutboundClient, ServiceUnavailable, retry_policy
from idp.verification.dopa.role import (
    MAX_RETRIES,
    MISMATCH,
    RESULTS_BY_CODE,
    VALID,
    AskingRegistry,
    CheckResult,
    DopaQuery,
)

SYSTEM = "DOPA (GDX)"
TOKEN_PATH = "/ws/auth/validate"
CHECK_PATH = "/ws/dopa/verification/personal"


class GdxCitizenRegistry(AskingRegistry):
    """``CitizenRegistry`` over GDX. Fails closed: anything but a readable answer raises."""

    needs_laser_code = True

    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, agent_id: str, *,
                 session: requests.Session, timeout: tuple[float, float] = (3.0, 5.0),
                 retries: int = MAX_RETRIES, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, renew_idle_seconds: float = 55 * 60):
        self.base_url = base_url.rstrip("/")
        self._key, self._secret, self._agent_id = consumer_key, consumer_secret, agent_id
        self._http = OutboundClient(SYSTEM, session, timeout=timeout, sleep=sleep,
                                    retry=retry_policy(min(retries, MAX_RETRIES), repeatable=True))
        self._clock, self._renew_idle_seconds = clock, renew_idle_seconds
        self._lock = threading.Lock()
        self._token: str | None = None
        self._last_used = 0.0

    def ask(self, query: DopaQuery) -> CheckResult:
        """The register's answer on ``query``, with a token renewed once if GDX refuses it."""
        params = self._params(query)
        answer = self._http.fetch("GET", self.base_url + CHECK_PATH, params=params,
                            headers=self._headers(self._current_token()))
        if answer.status == 401:  # the token died early (GDX restarted, or idle on its side)
            answer = self._http.fetch("GET", self.base_url + CHECK_PATH, params=params,
                                headers=self._headers(self._current_token(renew=True)))
        if answer.status == 401:
            raise ServiceUnavailable(SYSTEM, "a fresh token was refused (HTTP 401)")
        self._touch()
        return _result(answer)

    @staticmethod
    def _params(query: DopaQuery) -> dict:
        return {"CitizenID": query.citizen_id, "FirstName": query.first_name,
                "LastName": query.last_name, "BEBirthDate": query.be_birthdate,
                "LaserCode": query.laser_code}

    def _headers(self, token: str) -> dict:
        return {"Consumer-Key": self._key, "Token": token, "Accept": "application/json"}

    def _current_token(self, renew: bool = False) -> str:
        with self._lock:
            idle = self._clock() - self._last_used
            if renew or self._token is None or idle >= self._renew_idle_seconds:
                self._token = None  # a failed renewal must not leave the stale one in use
                self._token = self._new_token()
                self._last_used = self._clock()
            return self._token

    def _touch(self) -> None:
        with self._lock:
            self._last_used = self._clock()

    def _new_token(self) -> str:
        answer = self._http.fetch("GET", self.base_url + TOKEN_PATH,
                            params={"ConsumerSecret": self._secret, "AgentID": self._agent_id},
                            headers={"Consumer-Key": self._key, "Accept": "application/json"})
        if answer.status != 200:
            raise ServiceUnavailable(SYSTEM, f"token request answered HTTP {answer.status}")
        token = _json_object(answer).get("Result")
        if not isinstance(token, str) or not token.strip():
            raise ServiceUnavailable(SYSTEM, "token answer has no Result")
        return token


def _result(answer: HttpAnswer) -> CheckResult:
    """DOPA's answer, read strictly: a JSON boolean, or a known code in an HTTP 500 body."""
    if answer.status == 200:
        result = _json_object(answer).get("Result")
        if not isinstance(result, bool):
            raise ServiceUnavailable(SYSTEM, "answer has no boolean Result")
        return VALID if result else MISMATCH
    if answer.status == 500:
        body = _json_object(answer)
        code = _code(body.get("Code", body.get("code")))
        if code in RESULTS_BY_CODE and code != 0:
            return RESULTS_BY_CODE[code]
        raise ServiceUnavailable(SYSTEM, "HTTP 500 without a known DOPA code")
    raise ServiceUnavailable(SYSTEM, f"answered HTTP {answer.status}")


def _code(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None


def _json_object(answer: HttpAnswer) -> dict:
    try:
        body = json.loads(answer.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ServiceUnavailable(SYSTEM, f"HTTP {answer.status} body is not JSON") from None
    if not isinstance(body, dict):
        raise ServiceUnavailable(SYSTEM, f"HTTP {answer.status} body is not a JSON object")
    return body
