"""The sign-in page stays usable while Active Directory is black-holed: a live threaded IdP,
16 members running the staff check at once against an AD that accepts and never answers."""

from __future__ import annotations

import json
import threading
import time

import requests

from tests.support.faults import FaultServer, wait_until
from tests.support.live import BrowserSession, live_idp
from tests.support.slapd import SERVICE_DN, SERVICE_PASSWORD

MEMBERS, CONCURRENT_CALLS = 16, 4


def citizen_id(serial: int) -> str:
    """A 13-digit citizen ID with a valid check digit."""
    body = f"19{serial:010d}"
    check = (11 - sum(int(d) * (13 - i) for i, d in enumerate(body)) % 11) % 10
    return body + str(check)


def persons_file(path, ids):
    path.write_text(json.dumps({"persons": [
        {"citizen_id": cid, "first_name_th": "สมชาย", "last_name_th": "ใจดี",
         "birthdate": "1985-03-14", "laser_code": "JT1234567890"} for cid in ids]}))
    return str(path)


def test_sign_in_page_answers_while_every_staff_check_waits_on_a_black_holed_ad(tmp_path):
    ids = [citizen_id(n) for n in range(MEMBERS)]
    (tmp_path / "dpis.json").write_text('{"people": []}')
    black_hole = FaultServer("silent")
    settings = {
        "DOPA": {"PERSONS_FILE": persons_file(tmp_path / "dopa.json", ids)},
        "AD": {"BACKEND": "ldap", "URL": f"ldap://127.0.0.1:{black_hole.port}", "BIND_DN": SERVICE_DN,
               "BIND_PASSWORD": SERVICE_PASSWORD, "BASE_DN": "dc=moc,dc=test",
               "RECEIVE_TIMEOUT_SECONDS": 5},
        "DPIS": {"PEOPLE_FILE": str(tmp_path / "dpis.json")},
        "RESILIENCE": {"AD": {"CONCURRENT_CALLS": CONCURRENT_CALLS}},
    }
    try:
        with live_idp(tmp_path, settings=settings) as idp:
            sessions = [_signed_in(idp) for _ in ids]
            outcomes: list[str] = []
            threads = [threading.Thread(target=_staff_check, args=(s, idp.url, cid, outcomes))
                       for s, cid in zip(sessions, ids, strict=True)]
            for thread in threads:
                thread.start()
            assert wait_until(lambda: black_hole.connections >= CONCURRENT_CALLS), outcomes
            started = time.monotonic()
            login = requests.get(f"{idp.url}/login", timeout=30)
            print(f"\nGET /login with {MEMBERS} staff checks on a black-holed AD: "
                  f"{(time.monotonic() - started) * 1000:.0f} ms")
            assert login.status_code == 200
            for thread in threads:
                thread.join(timeout=60)
    finally:
        black_hole.stop()
    # The bulkhead let only CONCURRENT_CALLS lookups wait on AD; the rest failed fast, and every
    # member was sent to the document path with "unavailable", none told "not found".
    assert black_hole.connections == CONCURRENT_CALLS
    assert outcomes == ["/verify/staff/document"] * MEMBERS


def _signed_in(idp) -> BrowserSession:
    session = BrowserSession(idp.url, idp.create_member())
    assert session.sign_in(f"{idp.url}/account").url.endswith("/account")
    return session


def _staff_check(session: BrowserSession, url: str, cid: str, outcomes: list) -> None:
    page = session.get(f"{url}/verify/staff")
    response = session.submit(page, "/verify/staff", allow_redirects=False, citizen_id=cid,
                              first_name_th="สมชาย", last_name_th="ใจดี", birthdate="14/03/2528")
    outcomes.append(response.headers.get("Location", str(response.status_code)))
