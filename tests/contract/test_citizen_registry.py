"""One contract for every CitizenRegistry: the file stand-in, GDX and DOPA SOAP.

The real adapters run against loopback servers that speak their wire formats
(``tests/support/dopa_servers.py``), seeded with the same persons as the stand-in's file.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import traceback
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
import requests

from idp.verification import dopa
from idp.verification.dopa import (
    CheckResult,
    DopaSoapCitizenRegistry,
    FileCitizenRegistry,
    GdxCitizenRegistry,
    PersonToCheck,
    Status,
    citizen_registry_from_config,
)
from idp.verification.errors import ServiceUnavailable
from tests.support.dopa_servers import (
    SOAP12,
    SOAP_PATH,
    TEMPURI,
    Canned,
    DopaSoapServer,
    GdxServer,
    RegistryPerson,
    soap_fault,
    soap_result,
)

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "1985-03-14", "laser_code": "JT1234567890"}
THONGKHAM = {"citizen_id": "3100500123458", "first_name_th": "สมหญิง", "last_name_th": "ทองคำ",
             "birthdate": "1972-11-02", "laser_code": "ME0987654321"}
PRAYOON = {"citizen_id": "5209900456784", "first_name_th": "ประยูร", "last_name_th": "มั่นคง",
           "birthdate": "1947-00-00", "laser_code": "AB1122334455"}
EXPIRED = {"citizen_id": "3700100987654", "first_name_th": "วิไลวรรณ", "last_name_th": "ศรีสุข",
           "birthdate": "1960-07-00", "laser_code": "CD5566778899", "card_expired": True}
PERSONS = [SOMCHAI, THONGKHAM, PRAYOON, EXPIRED]
UNKNOWN_ID = "1100600111226"  # a valid checksum, in no register
BACKEND_NAMES = ["file", "file-without-laser", "gdx", "soap"]


def no_sleep(_seconds):
    pass


def person(entry=SOMCHAI, **changes) -> PersonToCheck:
    year, month, day = (int(part) for part in entry["birthdate"].split("-"))
    birthdate = date(year, month, day) if month and day else (year, month or None, day or None)
    fields = {"citizen_id": entry["citizen_id"], "first_name_th": entry["first_name_th"],
              "last_name_th": entry["last_name_th"], "birthdate": birthdate,
              "laser_code": entry["laser_code"]}
    fields.update(changes)
    return PersonToCheck(**fields)


@pytest.fixture
def gdx_server():
    server = GdxServer([RegistryPerson.from_entry(entry) for entry in PERSONS])
    yield server
    server.stop()


@pytest.fixture
def soap_server():
    server = DopaSoapServer([RegistryPerson.from_entry(entry) for entry in PERSONS])
    yield server
    server.stop()


@pytest.fixture
def persons_file(tmp_path):
    path = tmp_path / "persons.json"
    path.write_text(json.dumps({"persons": PERSONS}, ensure_ascii=False), encoding="utf-8")
    return path


class FakeMonotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, minutes):
        self.now += minutes * 60


def gdx_registry(server, url=None, timeout=(1.0, 2.0), **options) -> GdxCitizenRegistry:
    options.setdefault("sleep", no_sleep)
    return GdxCitizenRegistry(url or server.url, server.consumer_key, server.consumer_secret,
                              server.agent_id, session=requests.Session(), timeout=timeout, **options)


def soap_registry(server, url=None, timeout=(1.0, 2.0), **options) -> DopaSoapCitizenRegistry:
    options.setdefault("sleep", no_sleep)
    return DopaSoapCitizenRegistry((url or server.url) + SOAP_PATH, session=requests.Session(),
                                   timeout=timeout, **options)


@pytest.fixture(params=BACKEND_NAMES)
def registry(request, persons_file):
    if request.param == "file":
        return FileCitizenRegistry(persons_file, needs_laser_code=True)
    if request.param == "file-without-laser":
        return FileCitizenRegistry(persons_file)
    server = request.getfixturevalue(f"{request.param}_server")
    return gdx_registry(server) if request.param == "gdx" else soap_registry(server)


# --- the contract -------------------------------------------------------------------------

def test_a_person_whose_data_match_is_valid(registry):
    result = registry.check(person())
    assert result == CheckResult("valid", 0, "dopa.valid")
    assert result.valid and result.status is Status.VALID


@pytest.mark.parametrize("changes", [{"first_name_th": "สมชัย"}, {"last_name_th": "ใจงาม"},
                                     {"birthdate": date(1985, 3, 15)}, {"birthdate": date(1986, 3, 14)}])
def test_wrong_name_or_birthdate_is_a_mismatch(registry, changes):
    assert registry.check(person(**changes)) == CheckResult("mismatch", 4, "dopa.mismatch")


def test_a_wrong_laser_code_is_a_mismatch_where_the_laser_code_is_checked(registry):
    result = registry.check(person(laser_code="JT1234567891"))
    assert result.status == ("mismatch" if registry.needs_laser_code else "valid")


def test_an_unknown_citizen_id_is_a_mismatch(registry):
    assert registry.check(person(citizen_id=UNKNOWN_ID)).status == "mismatch"


def test_a_card_no_longer_valid_is_card_expired(registry):
    assert registry.check(person(EXPIRED)) == CheckResult("card_expired", 2, "dopa.card_expired")


def test_card_state_is_not_told_to_someone_with_the_wrong_data(registry):
    assert registry.check(person(EXPIRED, first_name_th="วิไล")).status == "mismatch"


@pytest.mark.parametrize("first, last", [("นายสมชาย", "ใจดี"), ("  สมชาย ", " ใจดี"),
                                         ("นาย สมชาย", "ใจ\u200bดี")])
def test_names_are_compared_without_title_and_spacing(registry, first, last):
    assert registry.check(person(first_name_th=first, last_name_th=last)).status == "valid"


def test_a_typed_nikhahit_and_sara_aa_matches_sara_am(registry):
    assert registry.check(person(THONGKHAM, last_name_th="ทองค\u0e4d\u0e32")).status == "valid"


def test_a_laser_code_with_dashes_and_lower_case_matches(registry):
    assert registry.check(person(laser_code="jt1-2345678-90")).status == "valid"


def test_unknown_birth_day_and_month_match_as_zero(registry):
    assert registry.check(person(PRAYOON)).status == "valid"
    assert registry.check(person(PRAYOON, birthdate=date(1947, 1, 1))).status == "mismatch"
    assert registry.check(person(EXPIRED, birthdate=(1960, 7, None))).status == "card_expired"


@pytest.mark.parametrize("changes", [{"first_name_th": ""}, {"last_name_th": " "},
                                     {"first_name_th": "\u200b"}, {"birthdate": None}])
def test_missing_input_is_incomplete(registry, changes):
    assert registry.check(person(**changes)) == CheckResult("incomplete", 5, "dopa.incomplete")


def test_a_missing_laser_code_is_incomplete_where_it_is_needed(registry):
    result = registry.check(person(laser_code=None))
    assert result.status == ("incomplete" if registry.needs_laser_code else "valid")


def test_a_malformed_laser_code_is_a_mismatch_where_it_is_needed(registry):
    result = registry.check(person(laser_code="JT12345"))
    assert result.status == ("mismatch" if registry.needs_laser_code else "valid")


def test_the_citizen_id_is_not_logged(registry, caplog):
    caplog.set_level(logging.DEBUG)
    for checked in (person(), person(first_name_th="สมชัย"), person(EXPIRED), person(laser_code=None)):
        registry.check(checked)
    assert SOMCHAI["citizen_id"] not in caplog.text
    assert EXPIRED["citizen_id"] not in caplog.text


# --- the person to check ------------------------------------------------------------------

@pytest.mark.parametrize("cid", ["1101700230709", "110170023070", "1-1017-00230-70-8", "1111111111111"])
def test_a_person_with_an_invalid_citizen_id_cannot_be_built(cid):
    with pytest.raises(ValueError) as raised:
        person(citizen_id=cid)
    assert cid not in str(raised.value)


def test_the_citizen_id_and_laser_code_stay_out_of_repr():
    text = repr(person())
    assert SOMCHAI["citizen_id"] not in text and SOMCHAI["laser_code"] not in text
    assert "สมชาย" in text  # the repr is still useful


def test_an_impossible_birthdate_cannot_be_built():
    with pytest.raises(ValueError):
        person(birthdate=(1985, None, 14))


def test_every_result_has_a_thai_message_through_gettext():
    from babel.support import Translations

    from idp.verification.views import MESSAGES

    thai = Translations.load(str(Path(dopa.__file__).parents[2] / "translations"), ["th"])
    for status in ["verified", *(each for each in Status if each != Status.VALID), "unavailable"]:
        english = MESSAGES[status]._args[0]  # the msgid behind the lazy string
        assert english.isascii() and any("\u0e00" <= ch <= "\u0e7f" for ch in thai.gettext(english))
    assert "อำเภอ" in thai.gettext(MESSAGES[Status.CARD_EXPIRED]._args[0])  # go to the district office


# --- the real adapters: what only an HTTP service can do ----------------------------------

class Real:
    """A real adapter's server and a way to build the adapter against it."""

    def __init__(self, name, server):
        self.name, self.server = name, server

    def registry(self, url=None, **options):
        if self.name == "gdx":
            return gdx_registry(self.server, url=url, **options)
        return soap_registry(self.server, url=url, **options)

    def valid_body(self, padding=0) -> bytes:
        if self.name == "gdx":
            return b'{"Result": true' + b" " * padding + b"}"
        return soap_result(0, False).replace(b"</soap:Body>", b" " * padding + b"</soap:Body>")

    def canned(self, body: bytes, status=200, **options) -> Canned:
        kind = "application/json" if self.name == "gdx" else "application/soap+xml; charset=utf-8"
        return Canned(status, body, kind, **options)


@pytest.fixture(params=["gdx", "soap"])
def real(request):
    return Real(request.param, request.getfixturevalue(f"{request.param}_server"))


def closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_answer_slower_than_the_timeout_is_unavailable_after_two_retries(real):
    real.server.delay_seconds = 1.0
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry(timeout=(0.2, 0.2)).check(person())
    assert len(real.server.checks()) == 3
    assert "ReadTimeout" in raised.value.reason or "ConnectionError" in raised.value.reason


def test_a_refused_connection_is_unavailable_after_two_retries_with_backoff(real):
    sleeps = []
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry(url=closed_port_url(), sleep=sleeps.append).check(person())
    assert sleeps == [0.2, 0.4]
    assert "3 attempt" in raised.value.reason


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_retried_twice_then_unavailable(real, status):
    real.server.always = real.canned(b"busy", status)
    sleeps = []
    with pytest.raises(ServiceUnavailable):
        real.registry(sleep=sleeps.append).check(person())
    assert len(real.server.checks()) == 3 and sleeps == [0.2, 0.4]


def test_an_answer_after_two_gateway_errors_is_used(real):
    real.server.then_answer(real.canned(b"", 502), real.canned(b"", 504))
    assert real.registry().check(person()).status == "valid"
    assert len(real.server.checks()) == 3


@pytest.mark.parametrize("code, status", [(4, "mismatch"), (2, "card_expired"), (5, "incomplete")])
def test_a_definite_answer_is_never_retried(real, code, status):
    real.server.answer_code(code)
    assert real.registry().check(person()).status == status
    assert len(real.server.checks()) == 1


@pytest.mark.parametrize("status", [403, 404, 429])
def test_an_unexpected_status_is_unavailable_without_retry(real, status):
    real.server.always = real.canned(b"no", status)
    with pytest.raises(ServiceUnavailable):
        real.registry().check(person())
    assert len(real.server.checks()) == 1


def test_a_redirect_is_not_followed(real):
    real.server.always = real.canned(b"", 302, headers={"Location": real.server.url + "/elsewhere"})
    with pytest.raises(ServiceUnavailable):
        real.registry().check(person())
    assert "/elsewhere" not in [request.path for request in real.server.requests]


@pytest.mark.parametrize("content_length", [True, False])
def test_an_answer_over_64_kib_is_unavailable(real, content_length):
    real.server.always = real.canned(real.valid_body(padding=70 * 1024), content_length=content_length)
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry().check(person())
    assert "larger than" in raised.value.reason
    assert len(real.server.checks()) == 1


def test_a_declared_length_over_64_kib_is_refused_before_the_body_arrives(real):
    body = real.valid_body(padding=70 * 1024)
    real.server.always = real.canned(body, pieces=2, pause_seconds=0.5)  # the rest comes late
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry(timeout=(1.0, 0.3)).check(person())
    assert "larger than" in raised.value.reason
    assert len(real.server.checks()) == 1


def test_an_answer_under_64_kib_is_read(real):
    real.server.always = real.canned(real.valid_body(padding=60 * 1024), content_length=False)
    assert real.registry().check(person()).status == "valid"


def test_a_body_trickling_past_the_read_timeout_is_unavailable(real):
    # Every wait is shorter than the read timeout; the whole body is not.
    real.server.always = real.canned(real.valid_body(padding=20 * 1024), pieces=3, pause_seconds=0.2)
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry(timeout=(1.0, 0.3)).check(person())
    assert "too slowly" in raised.value.reason


@pytest.mark.parametrize("changes", [{"laser_code": None}, {"laser_code": "JT12345"},
                                     {"first_name_th": ""}, {"birthdate": None}])
def test_incomplete_or_malformed_input_is_answered_without_a_call(real, changes):
    assert real.registry().check(person(**changes)).status in ("incomplete", "mismatch")
    assert real.server.requests == []


def test_the_citizen_id_is_absent_from_logs_and_errors_on_every_path(real, caplog):
    caplog.set_level(logging.DEBUG)
    cid = SOMCHAI["citizen_id"]
    registry = real.registry(timeout=(0.2, 0.2))
    registry.check(person())
    registry.check(person(first_name_th="สมชัย"))
    errors = []
    for trouble in ("slow", "500", "garbage"):
        real.server.delay_seconds = 1.0 if trouble == "slow" else 0
        real.server.always = {"slow": None, "500": real.canned(b"oops", 500),
                              "garbage": real.canned(b"\x00garbage")}[trouble]
        with pytest.raises(ServiceUnavailable) as raised:
            registry.check(person())
        errors.append(raised.value)
    with pytest.raises(ServiceUnavailable) as raised:
        real.registry(url=closed_port_url()).check(person())
    errors.append(raised.value)
    real.server.always, real.server.delay_seconds = None, 0
    registry.check(person())  # a GDX token in hand, then the service goes away:
    real.server.stop()  # the refused check's requests error quotes the URL with the ID
    with pytest.raises(ServiceUnavailable) as raised:
        registry.check(person())
    errors.append(raised.value)
    for error in errors:
        assert cid not in str(error) and cid not in repr(error)
        assert cid not in "".join(traceback.format_exception(error))
    assert any(record.name.startswith("urllib3") for record in caplog.records)  # HTTP was logged
    assert cid not in caplog.text
    assert real.server.consumer_secret not in caplog.text if real.name == "gdx" else True


def test_urllib3_request_lines_lose_their_query_string(gdx_server, caplog):
    caplog.set_level(logging.DEBUG)
    gdx_registry(gdx_server).check(person())
    lines = [record.getMessage() for record in caplog.records if record.name == "urllib3.connectionpool"]
    assert any("/ws/dopa/verification/personal?[redacted]" in line for line in lines), lines
    assert not any("CitizenID" in line or "ConsumerSecret" in line for line in lines)


# --- GDX ----------------------------------------------------------------------------------

def test_gdx_sends_the_check_as_query_parameters_with_key_and_token_headers(gdx_server):
    gdx_registry(gdx_server).check(person(first_name_th="นายสมชาย", laser_code="jt1-2345678-90"))
    [token_request] = gdx_server.token_requests()
    assert token_request.method == "GET" and token_request.path == "/ws/auth/validate"
    assert token_request.query == {"ConsumerSecret": "test-secret", "AgentID": gdx_server.agent_id}
    assert token_request.headers["Consumer-Key"] == "test-key"
    [check] = gdx_server.checks()
    assert check.method == "GET"
    assert check.query == {"CitizenID": "1101700230708", "FirstName": "สมชาย", "LastName": "ใจดี",
                           "BEBirthDate": "25280314", "LaserCode": "JT1234567890"}
    assert check.headers["Consumer-Key"] == "test-key" and check.headers["Token"] == "token-1"


def test_gdx_sends_unknown_birth_day_and_month_as_zero(gdx_server):
    gdx_registry(gdx_server).check(person(PRAYOON))
    assert gdx_server.checks()[0].query["BEBirthDate"] == "24900000"


@pytest.mark.parametrize("body, status", [
    ({"Code": 2, "Message": "บัตรหมดอายุ"}, "card_expired"), ({"Code": 4}, "mismatch"),
    ({"Code": 5}, "incomplete"), ({"code": 4}, "mismatch"), ({"Code": "2"}, "card_expired")])
def test_gdx_reads_dopa_codes_from_an_http_500(gdx_server, body, status):
    gdx_server.always = Canned(500, json.dumps(body).encode())
    assert gdx_registry(gdx_server).check(person()).status == status


@pytest.mark.parametrize("body", [
    b'{"Code": 0}', b'{"Code": 9}', b'{"Code": true}', '{"Code": "๔"}'.encode(),
    b'{"Message": "error"}', b"<html>Internal Server Error</html>", b"[4]", b""])
def test_gdx_an_unreadable_http_500_is_unavailable_without_retry(gdx_server, body):
    gdx_server.always = Canned(500, body)
    with pytest.raises(ServiceUnavailable):
        gdx_registry(gdx_server).check(person())
    assert len(gdx_server.checks()) == 1


@pytest.mark.parametrize("body", [b"{not json", b'{"Result": "true"}', b'{"Result": 1}', b'{"Result": null}',
                                  b"{}", b"[true]", b"\xff\xfe\x00", b"true"])
def test_gdx_an_unreadable_answer_is_unavailable(gdx_server, body):
    gdx_server.always = Canned(200, body)
    with pytest.raises(ServiceUnavailable):
        gdx_registry(gdx_server).check(person())


def test_gdx_reuses_its_token(gdx_server):
    registry = gdx_registry(gdx_server)
    for _ in range(3):
        assert registry.check(person()).status == "valid"
    assert len(gdx_server.token_requests()) == 1
    assert {check.headers["Token"] for check in gdx_server.checks()} == {"token-1"}


def test_gdx_renews_its_token_after_55_idle_minutes(gdx_server):
    clock = FakeMonotonic()
    registry = gdx_registry(gdx_server, clock=clock)
    registry.check(person())
    clock.advance(minutes=54)
    registry.check(person())
    assert len(gdx_server.token_requests()) == 1
    clock.advance(minutes=55)
    assert registry.check(person()).status == "valid"
    assert len(gdx_server.token_requests()) == 2
    assert gdx_server.checks()[-1].headers["Token"] == "token-2"


def test_gdx_a_token_in_steady_use_is_kept(gdx_server):
    clock = FakeMonotonic()
    registry = gdx_registry(gdx_server, clock=clock)
    for _ in range(6):  # three hours, a check every half hour: never idle for 55 minutes
        registry.check(person())
        clock.advance(minutes=30)
    assert len(gdx_server.token_requests()) == 1


def test_gdx_renews_its_token_once_after_a_401(gdx_server):
    registry = gdx_registry(gdx_server)
    registry.check(person())
    gdx_server.expire_tokens()
    assert registry.check(person()).status == "valid"
    assert len(gdx_server.token_requests()) == 2
    assert [check.headers["Token"] for check in gdx_server.checks()] == ["token-1", "token-1", "token-2"]


def test_gdx_a_fresh_token_refused_is_unavailable(gdx_server):
    gdx_server.always = Canned(401, b'{"Message": "unauthorized"}')
    with pytest.raises(ServiceUnavailable) as raised:
        gdx_registry(gdx_server).check(person())
    assert "401" in raised.value.reason
    assert len(gdx_server.token_requests()) == 2 and len(gdx_server.checks()) == 2


def test_gdx_wrong_consumer_credentials_are_unavailable_before_any_check(gdx_server):
    registry = GdxCitizenRegistry(gdx_server.url, "test-key", "wrong-secret", gdx_server.agent_id,
                                  session=requests.Session(), sleep=no_sleep)
    with pytest.raises(ServiceUnavailable):
        registry.check(person())
    assert gdx_server.checks() == []


@pytest.mark.parametrize("body", [b'{"Result": ""}', b'{"Result": null}', b"{}", b"token", b'["t"]'])
def test_gdx_an_unreadable_token_answer_is_unavailable(gdx_server, body):
    gdx_server.token_answer = Canned(200, body)
    with pytest.raises(ServiceUnavailable):
        gdx_registry(gdx_server).check(person())
    assert gdx_server.checks() == []


def test_gdx_a_failed_renewal_is_retried_on_the_next_check(gdx_server):
    clock = FakeMonotonic()
    registry = gdx_registry(gdx_server, clock=clock)
    registry.check(person())
    clock.advance(minutes=60)
    gdx_server.token_answer = Canned(503, b"")
    with pytest.raises(ServiceUnavailable):
        registry.check(person())
    gdx_server.token_answer = None
    assert registry.check(person()).status == "valid"
    assert gdx_server.checks()[-1].headers["Token"] != "token-1"


def test_gdx_a_token_refused_with_401_is_not_sent_again(gdx_server):
    registry = gdx_registry(gdx_server)
    registry.check(person())
    gdx_server.expire_tokens()
    gdx_server.token_answer = Canned(503, b"")
    with pytest.raises(ServiceUnavailable):
        registry.check(person())  # 401, then the renewal fails
    gdx_server.token_answer = None
    before = len(gdx_server.checks())
    assert registry.check(person()).status == "valid"
    [check] = gdx_server.checks()[before:]  # straight to a new token: no second 401
    assert check.headers["Token"] != "token-1"


# --- DOPA SOAP ----------------------------------------------------------------------------

def soap_operation(request) -> ET.Element:
    return ET.fromstring(request.body).find(f"{{{SOAP12}}}Body/{{{TEMPURI}}}CheckCardByLaser")


def test_soap_posts_check_card_by_laser_in_soap_12(soap_server):
    soap_registry(soap_server).check(person(first_name_th="นาย สมชาย", laser_code="jt1-2345678-90"))
    [check] = soap_server.checks()
    assert check.method == "POST"
    assert check.headers["Content-Type"] == (
        'application/soap+xml; charset=utf-8; action="http://tempuri.org/CheckCardByLaser"')
    root = ET.fromstring(check.body)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    operation = soap_operation(check)
    assert [(child.tag.split("}")[1], child.text) for child in operation] == [
        ("PID", "1101700230708"), ("FirstName", "สมชาย"), ("LastName", "ใจดี"),
        ("BirthDay", "25280314"), ("Laser", "JT1234567890")]


def test_soap_sends_unknown_birth_day_and_month_as_zero(soap_server):
    soap_registry(soap_server).check(person(EXPIRED))
    assert soap_operation(soap_server.checks()[0]).findtext(f"{{{TEMPURI}}}BirthDay") == "25030700"


def test_soap_escapes_markup_in_names(soap_server):
    injected = "สมชาย</FirstName><Laser>AB1122334455</Laser><FirstName>&amp;"
    result = soap_registry(soap_server).check(person(first_name_th=injected, last_name_th="ใจดี<&>"))
    assert result.status == "mismatch"
    [check] = soap_server.checks()
    operation = soap_operation(check)
    assert operation.findtext(f"{{{TEMPURI}}}FirstName") == injected
    assert operation.findtext(f"{{{TEMPURI}}}LastName") == "ใจดี<&>"
    assert len(operation.findall(f"{{{TEMPURI}}}Laser")) == 1
    assert b"&lt;/FirstName&gt;" in check.body


@pytest.mark.parametrize("code, is_error, status", [
    (0, False, "valid"), (2, True, "card_expired"), (4, True, "mismatch"), (5, True, "incomplete"),
    (4, False, "mismatch")])
def test_soap_reads_each_dopa_code(soap_server, code, is_error, status):
    soap_server.answer_code(code, is_error)
    assert soap_registry(soap_server).check(person()).status == status


@pytest.mark.parametrize("code, is_error", [(0, True), (1, True), (3, False), (7, True), (99, True)])
def test_soap_valid_with_is_error_or_an_unknown_code_is_unavailable(soap_server, code, is_error):
    soap_server.answer_code(code, is_error)
    with pytest.raises(ServiceUnavailable):
        soap_registry(soap_server).check(person())


@pytest.mark.parametrize("status", [500, 400, 200])
def test_soap_a_fault_is_unavailable_without_retry(soap_server, status):
    soap_server.always = Canned(status, soap_fault(), "application/soap+xml")
    with pytest.raises(ServiceUnavailable) as raised:
        soap_registry(soap_server).check(person())
    assert "Fault" in raised.value.reason
    assert len(soap_server.checks()) == 1


@pytest.mark.parametrize("status", [400, 500])
def test_soap_a_result_under_an_error_status_is_unavailable(soap_server, status):
    soap_server.always = Canned(status, soap_result(0, False), "application/soap+xml")
    with pytest.raises(ServiceUnavailable):
        soap_registry(soap_server).check(person())


SOAP11_ENVELOPE = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                   b'<CheckCardByLaserResponse xmlns="http://tempuri.org/"><CheckCardByLaserResult>'
                   b"<IsError>false</IsError><Code>0</Code></CheckCardByLaserResult>"
                   b"</CheckCardByLaserResponse></s:Body></s:Envelope>")


@pytest.mark.parametrize("body", [
    b"not xml", b"", b'{"Result": true}', soap_result(0, False)[:-20], SOAP11_ENVELOPE,
    soap_result(0, False).replace(b"<Code>0</Code>", b""),
    soap_result(0, False).replace(b"false", b"maybe"),
    soap_result(0, False).replace(b"<Code>0</Code>", b"<Code>zero</Code>"),
    soap_result(0, False).replace(b'xmlns="http://tempuri.org/"', b'xmlns="http://example.org/"'),
    soap_result(0, False).replace(b"<Desc>", "<Desc>ปกติ".encode("tis-620")),
    soap_fault().replace(b"soap:Fault", b"soap:Other"),
])
def test_soap_an_unreadable_answer_is_unavailable(soap_server, body):
    soap_server.always = Canned(200, body, "application/soap+xml")
    with pytest.raises(ServiceUnavailable):
        soap_registry(soap_server).check(person())


def test_soap_an_answer_with_a_dtd_is_refused_before_any_entity_is_expanded(soap_server):
    # Expanded, &ok; would make this a "valid" answer: only refusing the DTD stops it.
    body = soap_result(0, False).replace(b"<Code>0</Code>", b"<Code>&ok;</Code>").replace(
        b"?>", b'?><!DOCTYPE e [<!ENTITY ok "0">]>', 1)
    soap_server.always = Canned(200, body, "application/soap+xml")
    with pytest.raises(ServiceUnavailable) as raised:
        soap_registry(soap_server).check(person())
    assert "DTD" in raised.value.reason


@pytest.mark.parametrize("dtd", [
    b'<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'])
def test_soap_entity_expansion_and_external_entities_are_refused(soap_server, dtd):
    body = soap_result(0, False).replace(b"?>", b"?>" + dtd, 1)
    soap_server.always = Canned(200, body, "application/soap+xml")
    with pytest.raises(ServiceUnavailable):
        soap_registry(soap_server).check(person())


# --- the stand-in -------------------------------------------------------------------------

def test_the_stand_in_warns_that_it_is_not_for_production(persons_file, caplog):
    with caplog.at_level(logging.WARNING, logger="idp.verification.dopa.file"):
        FileCitizenRegistry(persons_file)
    assert "not for production" in caplog.text


def test_the_stand_in_does_not_need_the_laser_code_unless_told(persons_file):
    assert FileCitizenRegistry(persons_file).needs_laser_code is False
    assert FileCitizenRegistry(persons_file, needs_laser_code=True).needs_laser_code is True


@pytest.mark.parametrize("entry, problem", [
    ({**SOMCHAI, "citizen_id": "1101700230709"}, "citizen_id"),
    ({**SOMCHAI, "birthdate": "14/03/1985"}, "YYYY-MM-DD"),
    ({**SOMCHAI, "birthdate": "1985-02-30"}, "day")])
def test_a_wrong_person_in_the_file_is_named_by_number_not_by_id(tmp_path, entry, problem):
    path = tmp_path / "persons.json"
    path.write_text(json.dumps({"persons": [THONGKHAM, entry]}), encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        FileCitizenRegistry(path)
    assert "person 2" in str(raised.value) and problem in str(raised.value)
    assert entry["citizen_id"] not in str(raised.value)


def test_the_sample_persons_file_is_the_default_and_each_person_in_it_checks():
    registry = citizen_registry_from_config({"BACKEND": "file", "NEEDS_LASER_CODE": True})
    entries = json.loads(dopa.SAMPLE_PERSONS_FILE.read_text(encoding="utf-8"))["persons"]
    assert len(entries) >= 3
    for entry in entries:
        expected = "card_expired" if entry.get("card_expired") else "valid"
        assert registry.check(person(entry)).status == expected
    assert any(entry.get("card_expired") for entry in entries)


# --- BACKENDS and the config --------------------------------------------------------------

def test_backends_map_the_config_key_to_each_implementation():
    from idp.verification.dopa import BACKENDS

    assert BACKENDS == {"gdx": GdxCitizenRegistry, "soap": DopaSoapCitizenRegistry,
                        "file": FileCitizenRegistry}
    assert dopa.BACKENDS is BACKENDS


def test_config_builds_the_file_stand_in(persons_file):
    registry = citizen_registry_from_config({"BACKEND": "file", "PERSONS_FILE": str(persons_file),
                                             "NEEDS_LASER_CODE": True})
    assert isinstance(registry, FileCitizenRegistry) and registry.needs_laser_code
    assert registry.check(person(laser_code="JT1234567891")).status == "mismatch"


def test_config_builds_gdx_with_its_timeout_and_retries(gdx_server):
    table = {"BACKEND": "gdx", "BASE_URL": gdx_server.url + "/", "CONSUMER_KEY": "test-key",
             "CONSUMER_SECRET": "test-secret", "AGENT_ID": gdx_server.agent_id,
             "TIMEOUT_SECONDS": 0.2, "RETRIES": 1}
    registry = citizen_registry_from_config(table, http=requests.Session(), sleep=no_sleep)
    assert isinstance(registry, GdxCitizenRegistry)
    assert registry.check(person()).status == "valid"
    gdx_server.delay_seconds = 1.0
    with pytest.raises(ServiceUnavailable):
        registry.check(person())
    assert len(gdx_server.checks()) == 1 + 2


def test_config_builds_soap_with_its_timeout(soap_server):
    table = {"BACKEND": "soap", "URL": soap_server.url + SOAP_PATH, "TIMEOUT_SECONDS": 0.2, "RETRIES": 0}
    registry = citizen_registry_from_config(table, sleep=no_sleep)
    assert isinstance(registry, DopaSoapCitizenRegistry)
    assert registry.check(person()).status == "valid"
    soap_server.delay_seconds = 1.0
    with pytest.raises(ServiceUnavailable):
        registry.check(person())
    assert len(soap_server.checks()) == 2


def test_config_takes_the_app_clock_for_the_gdx_token(gdx_server):
    from idp.clock import FrozenClock

    clock = FrozenClock()
    table = {"BACKEND": "gdx", "BASE_URL": gdx_server.url, "CONSUMER_KEY": "test-key",
             "CONSUMER_SECRET": "test-secret", "AGENT_ID": gdx_server.agent_id}
    registry = citizen_registry_from_config(table, clock=clock)
    registry.check(person())
    clock.advance(minutes=56)
    registry.check(person())
    assert len(gdx_server.token_requests()) == 2


@pytest.mark.parametrize("table, message", [
    ({"BACKEND": "ldap"}, "BACKEND must be one of"),
    ({"BACKEND": "gdx", "BASE_URL": "https://api.egov.go.th"}, "CONSUMER_KEY, CONSUMER_SECRET, AGENT_ID"),
    ({"BACKEND": "soap"}, "needs URL"),
    ({"BACKEND": "soap", "URL": "https://dopa.example", "RETRIES": 3}, "RETRIES"),
])
def test_config_mistakes_are_refused_with_the_key_named(table, message):
    with pytest.raises(ValueError) as raised:
        citizen_registry_from_config(table)
    assert message in str(raised.value)


@pytest.mark.parametrize("module", ["dopa.gdx", "dopa.soap", "dopa.file", "dopa.role", "dopa"])
def test_each_dopa_module_can_be_imported_first(module):
    code = (f"import idp.verification.{module}\n"
            "from idp.verification.dopa import BACKENDS\n"
            "print(sorted(BACKENDS))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['file', 'gdx', 'soap']"
