"""The one outbound HTTP client: its retry policy, its deadline rule and its log redaction,
checked by counting attempts and pauses (never by timing)."""

from __future__ import annotations

import logging

import pytest
import requests

from idp.outbound import (
    OutboundClient,
    RedactUrls,
    ServiceUnavailable,
    deadline,
    retry_policy,
    time_left,
)

CITIZEN_ID = "1101700230708"


class FailingHttp:
    """Stands where the session goes: every call raises ``error``; records each call's timeout."""

    def __init__(self, error: Exception):
        self.error, self.timeouts = error, []

    def get(self, url, *, timeout, **_kwargs):
        self.timeouts.append(timeout)
        raise self.error


def client(http, *, repeatable=True, retries=2, sleeps=None, timeout=(3.0, 5.0)) -> OutboundClient:
    return OutboundClient("Test", http, timeout=timeout, sleep=(sleeps if sleeps is not None else []).append,
                          retry=retry_policy(retries, repeatable=repeatable))


def test_a_refused_connection_is_retried_with_doubling_pauses_then_unavailable():
    http, sleeps = FailingHttp(requests.ConnectionError("refused")), []
    with pytest.raises(ServiceUnavailable, match="ConnectionError after 3 attempt"):
        client(http, sleeps=sleeps).fetch("GET", f"https://registry.test/check?id={CITIZEN_ID}")
    assert len(http.timeouts) == 3 and sleeps == [0.2, 0.4]


def test_a_read_timeout_is_retried_only_for_repeatable_lookups():
    repeatable, final = FailingHttp(requests.ReadTimeout()), FailingHttp(requests.ReadTimeout())
    for http, flag in ((repeatable, True), (final, False)):
        with pytest.raises(ServiceUnavailable, match="ReadTimeout"):
            client(http, repeatable=flag).fetch("GET", "https://registry.test/")
    assert (len(repeatable.timeouts), len(final.timeouts)) == (3, 1)


def test_an_error_that_is_not_about_reaching_the_server_is_never_retried():
    http = FailingHttp(requests.exceptions.InvalidURL("bad"))
    with pytest.raises(ServiceUnavailable, match="InvalidURL after 1 attempt"):
        client(http).fetch("GET", "https://registry.test/")


def test_no_retry_starts_once_the_deadline_is_spent():
    http, sleeps = FailingHttp(requests.ConnectionError("refused")), []
    with deadline(0.1), pytest.raises(ServiceUnavailable, match="after 1 attempt"):
        client(http, sleeps=sleeps).fetch("GET", "https://registry.test/")  # a 0.2 s pause won't fit
    assert len(http.timeouts) == 1 and sleeps == []


def test_every_timeout_is_clipped_to_what_is_left_of_the_deadline():
    http = FailingHttp(requests.ConnectionError("refused"))
    with deadline(1.0), pytest.raises(ServiceUnavailable):
        client(http, retries=0).fetch("GET", "https://registry.test/")
    [(connect, read)] = http.timeouts
    assert connect <= 1.0 and read <= 1.0


def test_an_inner_deadline_cannot_outlast_an_outer_one():
    with deadline(1.0), deadline(60.0):
        assert time_left() <= 1.0
    assert time_left() is None and time_left(5.0) == 5.0


def test_the_error_names_only_the_class_and_carries_no_url():
    http = FailingHttp(requests.ConnectionError(f"https://registry.test/check?id={CITIZEN_ID}"))
    with pytest.raises(ServiceUnavailable) as raised:
        client(http, retries=0).fetch("GET", f"https://registry.test/check?id={CITIZEN_ID}")
    error = raised.value
    assert CITIZEN_ID not in str(error) and error.__cause__ is None and error.__context__ is None


def test_the_log_filter_cuts_query_strings_and_masks_citizen_ids():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                               '%s "GET %s HTTP/1.1" 200', ("https://dpis.test:443",
                               f"/people/{CITIZEN_ID}?secret=s3cret"), None)
    RedactUrls().filter(record)
    message = record.getMessage()
    assert CITIZEN_ID not in message and "s3cret" not in message
    assert "/people/*************?[redacted]" in message
