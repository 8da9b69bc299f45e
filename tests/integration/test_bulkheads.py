"""Bulkheads around DOPA, AD and DPIS, tried through the pages members use: against real
loopback servers that never answer, answer slowly, hang up or fail, the circuit breaker opens
after N failures and then answers "unavailable" without calling, and the total deadline of a
check bounds how many attempts reach the server."""

from __future__ import annotations

import pytest

from idp.config import merge
from idp.db import db
from tests.support.faults import FaultServer, closed_port
from tests.support.flows import Flow, csrf_token
from tests.support.slapd import SERVICE_DN, SERVICE_PASSWORD

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528", "laser_code": "JT1234567890"}
SOAP_PATH = "/CheckCardStatus/CheckCardService.asmx"
RETRIES = 2


@pytest.fixture(params=["silent", "slow", "hang_up", "error"])
def fault(request):
    server = FaultServer(request.param, delay=3.0)
    yield server
    server.stop()


def signed_in_member(app, email="somchai@example.com"):
    from idp.accounts.service import create_user

    with app.app_context():
        create_user(email, "correct horse battery", given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
    web = app.test_client()
    Flow(web, "unused").sign_in(email=email)
    return web


def post_form(web, path, form):
    page = web.get(path).get_data(as_text=True)
    return web.post(path, data={**form, "csrf_token": csrf_token(page)})


def bulkhead(failures=2, deadline=1.5):
    return {"FAILURES_TO_OPEN": failures, "DEADLINE_SECONDS": deadline, "OPEN_SECONDS": 60}


# --- DOPA -----------------------------------------------------------------------------------

def dopa_settings(server_url):
    return {"DOPA": {"BACKEND": "soap", "URL": server_url + SOAP_PATH, "TIMEOUT_SECONDS": 1,
                     "CONNECT_TIMEOUT_SECONDS": 1, "RETRIES": RETRIES},
            "RESILIENCE": {"DOPA": bulkhead()}}


def test_a_failing_dopa_opens_the_breaker_then_answers_unavailable_without_calling(build, fault):
    web = signed_in_member(build(dopa_settings(fault.url)))
    attempts = []
    for _ in range(2):
        response = post_form(web, "/verify/identity", SOMCHAI)
        assert response.status_code == 503
        attempts.append(fault.connections - sum(attempts))
    # Each check stops at its deadline (1.5 s), not after 1 + RETRIES read timeouts of 1 s.
    expected = range(1, RETRIES + 2) if fault.mode == "error" else range(1, RETRIES + 1)
    assert all(count in expected for count in attempts), (fault.mode, attempts)
    response = post_form(web, "/verify/identity", SOMCHAI)
    assert response.status_code == 503 and fault.connections == sum(attempts)
    print(f"\nDOPA {fault.mode}: attempts per check {attempts}, then 0 with the breaker open")


def test_a_dopa_deadline_shorter_than_one_timeout_allows_one_attempt(build):
    server = FaultServer("silent")
    try:
        settings = merge(dopa_settings(server.url), {"RESILIENCE": {"DOPA": bulkhead(deadline=0.5)}})
        web = signed_in_member(build(settings))
        assert post_form(web, "/verify/identity", SOMCHAI).status_code == 503
        assert server.connections == 1  # without the deadline: 1 + RETRIES attempts
    finally:
        server.stop()


# --- AD ---------------------------------------------------------------------------------------

def ad_settings(url, **policy):
    return {"AD": {"BACKEND": "ldap", "URL": url, "BIND_DN": SERVICE_DN,
                   "BIND_PASSWORD": SERVICE_PASSWORD, "BASE_DN": "dc=moc,dc=test",
                   "CONNECT_TIMEOUT_SECONDS": 1, "RECEIVE_TIMEOUT_SECONDS": 1},
            "DPIS": {"PEOPLE_FILE": str(_empty_file("people"))},
            "RESILIENCE": {"AD": {**bulkhead(), **policy}}}


def staff_check(web):
    return post_form(web, "/verify/staff", SOMCHAI)


@pytest.mark.parametrize("mode", ["silent", "refused"])
def test_an_unreachable_ad_opens_the_breaker_and_the_member_is_told_to_retry_or_send_a_document(
        build, mode):
    server = FaultServer("silent") if mode == "silent" else None
    port = server.port if server else closed_port()
    try:
        web = signed_in_member(build(ad_settings(f"ldap://127.0.0.1:{port}")))
        for _ in range(3):
            response = staff_check(web)
            assert response.headers["Location"] == "/verify/staff/document"
        page = web.get("/verify/staff/document").get_data(as_text=True)
        assert "ไม่สามารถเชื่อมต่อระบบ AD หรือระบบ DPIS" in page and "ส่งเอกสาร" in page
        if server:
            assert server.connections == 2  # the third check never reached the directory
    finally:
        if server:
            server.stop()


def test_ad_breaker_counts_calls_the_directory_made(build):
    """With the breaker open the directory is not asked: the audit row says unavailable."""
    from idp.audit import events

    port = closed_port()
    app = build(ad_settings(f"ldap://127.0.0.1:{port}", FAILURES_TO_OPEN=1))
    web = signed_in_member(app)
    staff_check(web)
    staff_check(web)
    with app.app_context():
        tags = [event.tag for event in events("verification:staff")]
    assert tags.count("verification:staff:unavailable") == 2
    assert app.extensions["idp.staff_directory"].bulkhead.breaker.state == "open"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    """A real slapd holding Somchai's enabled account."""
    import base64

    from tests.support.slapd import PEOPLE_DN, start_slapd

    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    server = start_slapd(tmp_path_factory.mktemp("slapd"), (
        f"dn: cn=Somchai,{PEOPLE_DN}\nobjectClass: user\ncn: Somchai\nsn:: {b64('ใจดี')}\n"
        f"givenName:: {b64('สมชาย')}\nemployeeID: 1101700230708\nuserAccountControl: 512\n"))
    yield server
    server.stop()


def test_a_healthy_directory_behind_the_bulkhead_still_grants_staff_status(build, slapd):
    web = signed_in_member(build(ad_settings(slapd.url)))
    response = staff_check(web)
    assert response.headers["Location"] == "/account"


# --- DPIS -------------------------------------------------------------------------------------

def dpis_settings(url, **policy):
    return {"DPIS": {"BACKEND": "http", "BASE_URL": url, "TOKEN": "t", "CONNECT_TIMEOUT_SECONDS": 1,
                     "READ_TIMEOUT_SECONDS": 1, "RETRIES": RETRIES},
            "AD": {"ENTRIES_FILE": str(_empty_file("entries"))},
            "RESILIENCE": {"DPIS": {**bulkhead(), **policy}}}


def _empty_file(key: str):
    """A stand-in data file with nobody in it (``entries`` for AD, ``people`` for DPIS)."""
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / f"{key}.json"
    path.write_text(f'{{"{key}": []}}')
    return path


def test_a_failing_dpis_opens_the_breaker_then_answers_unavailable_without_calling(build, fault):
    web = signed_in_member(build(dpis_settings(fault.url)))
    for _ in range(2):
        assert staff_check(web).headers["Location"] == "/verify/staff/document"
    before = fault.connections
    # A hang-up is retried (no answer came), but never past the deadline: 2 of 1 + RETRIES.
    assert before <= 2 * (RETRIES if fault.mode == "hang_up" else 1), (fault.mode, before)
    assert staff_check(web).headers["Location"] == "/verify/staff/document"
    assert fault.connections == before
    page = web.get("/verify/staff/document").get_data(as_text=True)
    assert "ไม่สามารถเชื่อมต่อระบบ AD หรือระบบ DPIS" in page and "ส่งเอกสาร" in page
    print(f"\nDPIS {fault.mode}: {before} attempts for 2 checks, then 0 with the breaker open")


def test_dpis_sql_on_a_black_hole_is_unavailable_and_opens_the_breaker(build):
    server = FaultServer("silent")
    try:
        settings = {"DPIS": {"BACKEND": "sql", "CONNECT_TIMEOUT_SECONDS": 1,
                             "DATABASE_URL": f"postgresql+psycopg://dpis@127.0.0.1:{server.port}/dpis?sslmode=disable"},
                    "AD": {"ENTRIES_FILE": str(_empty_file("entries"))},
                    "RESILIENCE": {"DPIS": bulkhead()}}
        web = signed_in_member(build(settings))
        for _ in range(3):
            assert staff_check(web).headers["Location"] == "/verify/staff/document"
        assert server.connections == 2
    finally:
        server.stop()


class Counting:
    """An external system's stand-in that counts the calls made to it."""

    needs_laser_code = False

    def __init__(self):
        self.calls = 0

    def check(self, person):
        self.calls += 1
        raise AssertionError("the sign-in path asked DOPA")

    def find_by_citizen_id(self, citizen_id):
        self.calls += 1
        raise AssertionError("the sign-in path asked AD or DPIS")


def test_signing_in_never_calls_dopa_ad_or_dpis(build):
    systems = {name: Counting() for name in ("citizen_registry", "staff_directory", "hr_system")}
    app = build({}, extra_adapters=systems)
    web = signed_in_member(app)
    assert web.get("/login").status_code in (200, 302) and web.get("/account").status_code == 200
    assert [system.calls for system in systems.values()] == [0, 0, 0]
