"""Outbound HTTP: the one client every call to another system goes through.

Used by the DOPA checks (GDX, SOAP), DPIS over HTTP and back-channel logout. It owns the
rules such a call must follow, written once:

- **Errors**: a system that cannot be reached, times out or answers more than we read is
  ``ServiceUnavailable`` naming only the error's class: a ``requests`` message quotes the URL,
  which may carry a citizen ID or a secret. It is raised outside any ``except`` clause, so the
  library error is neither chained nor kept as context.
- **Retries**: one policy, a urllib3 ``Retry`` built by ``retry_policy``: after a failure to
  connect always; after a read failure (timeout, cut-off answer) or a listed gateway status
  only where the caller says the call is a read-only lookup that may be repeated. Pauses are
  ``backoff x 2^(n-1)``. The loop is ours rather than urllib3's (``HTTPAdapter(max_retries=)``)
  because each attempt's timeouts are clipped to what is left of the deadline, which urllib3
  cannot do, and because callers inject their own session.
- **Deadline**: ``deadline(seconds)`` bounds everything inside it (the bulkhead of
  ``verification/resilience.py`` opens one per check); every timeout is clipped to
  ``time_left()``, no retry starts once it is spent, and a body is read only until then.
- **Redirects** are never followed: a check that moved is a configuration problem, and
  following it would carry the query to wherever it points.
- **Logs**: urllib3 logs each request line at DEBUG; ``RedactUrls`` on its loggers cuts query
  strings and masks any 13-digit run (a citizen ID in a path) from every line, for all callers.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
import urllib3
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

GATEWAY_STATUSES = (502, 503, 504)
MAX_BODY_BYTES = 64 * 1024
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")
_QUERY_STRING = re.compile(r"\?[^\s'\"]*")
_CITIZEN_ID = re.compile(r"\d{13}")
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("idp_deadline", default=None)


class ServiceUnavailable(Exception):
    """The external system could not be reached or answered nonsense.

    Distinct from "not found" and "wrong data", which are return values: a system that is
    down is reported as down, never as "not found". Identity checks fail closed on it.
    """

    def __init__(self, system: str, reason: str):
        super().__init__(f"{system} is unavailable: {reason}")
        self.system, self.reason = system, reason


# --- the deadline ---------------------------------------------------------------------------

@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything inside must finish within ``seconds`` (an earlier outer deadline wins)."""
    end = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(end, outer))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left(limit: float | None = None) -> float | None:
    """Seconds left before the current deadline, at most ``limit``; None without either."""
    end = _DEADLINE.get()
    if end is None:
        return limit
    left = max(0.0, end - time.monotonic())
    return left if limit is None else min(limit, left)


# --- logs -------------------------------------------------------------------------------------

class RedactUrls(logging.Filter):
    """Cuts query strings and masks citizen IDs in log records: URLs may carry either."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; leave it to the handler
            return True
        redacted = _CITIZEN_ID.sub("*" * 13, _QUERY_STRING.sub("?[redacted]", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_http_logs() -> None:
    """Install ``RedactUrls`` on urllib3's URL-logging loggers (once; idempotent)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(each, RedactUrls) for each in logger.filters):
            logger.addFilter(RedactUrls())


# --- the retry policy ---------------------------------------------------------------------------

def retry_policy(retries: int, *, repeatable: bool, backoff: float = 0.2) -> Retry:
    """The retry policy: connection failures always; read failures and 502/503/504 if ``repeatable``."""
    return Retry(total=retries, connect=retries, read=retries if repeatable else 0,
                 status=retries if repeatable else 0, other=0, redirect=0,
                 status_forcelist=frozenset(GATEWAY_STATUSES if repeatable else ()),
                 backoff_factor=backoff, allowed_methods=None, raise_on_status=False,
                 respect_retry_after_header=False)


NO_RETRY = retry_policy(0, repeatable=False)


def session() -> requests.Session:
    """A new ``requests.Session`` for outbound calls."""
    redact_http_logs()
    return requests.Session()


@dataclass(frozen=True)
class HttpAnswer:
    """A status and a size-capped body."""

    status: int
    body: bytes


class _Retryable(Exception):
    """One attempt failed in a way the policy may repeat; ``cause`` is urllib3's kind of it."""

    def __init__(self, failure: str, cause: Exception | None = None, status: int | None = None):
        super().__init__(failure)
        self.failure, self.cause, self.status = failure, cause, status


class OutboundClient:
    """One system's HTTP calls: timeouts, the retry policy, the deadline, a size-capped body."""

    def __init__(self, system: str, http=None, *, timeout: tuple[float, float],
                 retry: Retry = NO_RETRY, max_body_bytes: int = MAX_BODY_BYTES,
                 sleep: Callable[[float], None] = time.sleep):
        self.system, self.http = system, http if http is not None else session()
        self.timeout, self.retry, self.sleep = timeout, retry, sleep
        self.max_body_bytes = max_body_bytes
        redact_http_logs()

    def fetch(self, method: str, url: str, **kwargs) -> HttpAnswer:
        """The answer to ``method url``; ``ServiceUnavailable`` when none could be had."""
        return self._with_retries(method, url, kwargs, self._fetch_once)

    def send(self, method: str, url: str, **kwargs) -> int:
        """The status of ``method url``, the body unread; ``ServiceUnavailable`` without one."""
        return self._with_retries(method, url, kwargs, self._send_once)

    def _with_retries(self, method: str, url: str, kwargs: dict, once: Callable):
        retry, attempts = self.retry, 0
        while True:
            attempts += 1
            try:
                return once(method, url, kwargs)
            except _Retryable as error:
                failure = error.failure
                retry = self._next(retry, method, url, error)
            if retry is None or not self._pause(retry):
                break
        raise ServiceUnavailable(self.system, f"{failure} after {attempts} attempt(s)")

    @staticmethod
    def _next(retry: Retry, method: str, url: str, error: _Retryable) -> Retry | None:
        if error.cause is None and error.status is None:
            return None  # not a failure the policy knows how to repeat (a bad URL, say)
        response = None if error.status is None else urllib3.HTTPResponse(status=error.status)
        try:
            return retry.increment(method, url, response=response, error=error.cause)
        except (MaxRetryError, ConnectTimeoutError, ProtocolError):
            return None

    def _pause(self, retry: Retry) -> bool:
        pause = retry.backoff_factor * 2 ** (len(retry.history) - 1)
        left = time_left()
        if left is not None and left <= pause:
            return False  # the check's total deadline is spent
        self.sleep(pause)
        return True

    def _timeouts(self) -> tuple[float, float]:
        """The connect and read timeouts, clipped to what is left of the deadline."""
        return tuple(max(0.01, time_left(limit)) for limit in self.timeout)

    def _call(self, method: str, url: str, kwargs: dict, timeout: tuple[float, float]):
        try:
            return getattr(self.http, method.lower())(
                url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
        except requests.ConnectionError as error:  # includes ConnectTimeout: no answer began
            failure, cause = type(error).__name__, ConnectTimeoutError(type(error).__name__)
        except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            failure, cause = type(error).__name__, ProtocolError(type(error).__name__)
        except requests.RequestException as error:
            failure, cause = type(error).__name__, None
        raise _Retryable(failure, cause)

    def _send_once(self, method: str, url: str, kwargs: dict) -> int:
        response = self._call(method, url, kwargs, self._timeouts())
        if hasattr(response, "close"):
            response.close()
        return response.status_code

    def _fetch_once(self, method: str, url: str, kwargs: dict) -> HttpAnswer:
        timeout = self._timeouts()
        with self._call(method, url, kwargs, timeout) as response:
            if response.status_code in self.retry.status_forcelist:
                raise _Retryable(f"HTTP {response.status_code}", status=response.status_code)
            return HttpAnswer(response.status_code, self._body(response, timeout[1]))

    def _body(self, response: requests.Response, read_timeout: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        # The read timeout bounds each wait, not the whole body: a server trickling bytes would
        # hold the request thread for ever without this deadline. read1 returns what has
        # arrived (one socket read), so the check runs between reads, however small.
        deadline_at, body = time.monotonic() + read_timeout, bytearray()
        try:
            while chunk := response.raw.read1(16 * 1024, decode_content=True):
                body += chunk
                if len(body) > self.max_body_bytes:
                    raise self._too_large()
                if time.monotonic() > deadline_at:
                    raise ServiceUnavailable(self.system, "answer arrived too slowly")
        except (urllib3.exceptions.HTTPError, OSError) as error:
            failure = f"answer cut off ({type(error).__name__})"
        else:
            return bytes(body)
        raise _Retryable(failure, ProtocolError(failure))

    def _too_large(self) -> ServiceUnavailable:
        return ServiceUnavailable(self.system, f"answer larger than {self.max_body_bytes} bytes")
