"""Staff status rests on the account's own verified identity: conflicting records are not
granted, the lookup is rate-limited per member, and a missing identity is a page, not a 500."""

from __future__ import annotations

import json

import pytest

from tests.contract import test_hr_system as dpis_contract
from tests.contract import test_staff_directory as ad_contract
from tests.support import slapd as slapd_support
from tests.support.flows import Flow, csrf_token

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}      # in AD (enabled) and in DPIS (in service)
CONFLICT = "records disagree"


def member(app, make_user, email="s@example.com"):
    make_user(email=email, given_name_th="สมชาย", family_name_th="ใจดี")
    web = app.test_client()
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Flow(web, "x").sign_in(email=email)
    return web


def staff_check(web, person=SOMCHAI):
    page = web.get("/verify/staff").get_data(as_text=True)
    return web.post("/verify/staff", data={**person, "csrf_token": csrf_token(page)})


def stored(app, email="s@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return {c.name: getattr(user, c.name) for c in user.__table__.columns}


def tags(app, prefix="verification:staff"):
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events(prefix)]


def ad_file(tmp_path, enabled: bool):
    from idp.verification.ad import staff_directory_from_config

    entry = {"citizen_id": SOMCHAI["citizen_id"], "sam_account_name": "somchai.j",
             "user_principal_name": "somchai.j@moc.go.th", "display_name": "สมชาย ใจดี",
             "given_name": "สมชาย", "surname": "ใจดี", "department": "สป.", "title": "นักวิชาการ",
             "enabled": enabled, "member_of": []}
    path = tmp_path / "ad.json"
    path.write_text(json.dumps({"entries": [entry]}))
    return staff_directory_from_config({"BACKEND": "file", "ENTRIES_FILE": str(path)})


def dpis_file(tmp_path, in_service: bool):
    from idp.verification.dpis import hr_system_from_config

    person = {"citizen_id": SOMCHAI["citizen_id"], "first_name": "สมชาย", "last_name": "ใจดี",
              "birthdate": "2528-03-14", "in_service": in_service, "position": "นักวิชาการ",
              "organisation": "สป."}
    path = tmp_path / "dpis.json"
    path.write_text(json.dumps({"people": [person]}))
    return hr_system_from_config({"BACKEND": "file", "PEOPLE_FILE": str(path)})


def assert_conflict_refused(app, response):
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and CONFLICT in html
    assert "/verify/staff/document" in html  # the document path is offered
    assert stored(app)["staff_status"] == "none"
    assert "verification:staff:conflict" in tags(app)


@pytest.mark.parametrize("ad_enabled,in_service", [(False, True), (True, False)])
def test_conflicting_ad_and_dpis_records_are_not_granted(app, make_user, tmp_path, ad_enabled, in_service):
    app.extensions["idp.staff_directory"] = ad_file(tmp_path, ad_enabled)
    app.extensions["idp.hr_system"] = dpis_file(tmp_path, in_service)
    web = member(app, make_user)
    assert_conflict_refused(app, staff_check(web))


@pytest.fixture(scope="module")
def disabled_slapd(tmp_path_factory):
    """A real slapd where the member's AD account is disabled (userAccountControl 514)."""
    if slapd_support.slapd_binaries() is None:
        pytest.fail("slapd is not installed (Debian packages: slapd ldap-utils)")
    people = [ad_contract.person(SOMCHAI["citizen_id"], "Somchai Jaidee", uac=514, given="สมชาย",
                                 sn="ใจดี", department="สำนักงานปลัดกระทรวงพาณิชย์")]
    server = slapd_support.start_slapd(tmp_path_factory.mktemp("slapd"), ad_contract.ldif_of(people))
    yield server
    server.stop()


def test_a_disabled_entry_in_real_ad_and_in_service_in_real_dpis_is_a_conflict(
        app, make_user, disabled_slapd, tmp_path):
    import sqlalchemy as sa

    from idp.verification.dpis import SqlDpis

    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    builder = sa.create_engine(url)
    dpis_contract.build_dpis(builder)  # the member is in service there
    builder.dispose()
    app.extensions["idp.staff_directory"] = ad_contract.ldap_directory(disabled_slapd.url)
    app.extensions["idp.hr_system"] = dpis = SqlDpis.from_url(url)
    web = member(app, make_user)
    try:
        assert_conflict_refused(app, staff_check(web))
    finally:
        dpis.engine.dispose()


def test_present_in_one_source_and_absent_from_the_other_is_granted(app, make_user, tmp_path):
    from idp.verification.dpis import hr_system_from_config

    people = tmp_path / "none.json"
    people.write_text(json.dumps({"people": []}))
    app.extensions["idp.staff_directory"] = ad_file(tmp_path, True)
    app.extensions["idp.hr_system"] = hr_system_from_config({"BACKEND": "file",
                                                            "PEOPLE_FILE": str(people)})
    web = member(app, make_user)
    assert staff_check(web).status_code == 302
    assert stored(app)["staff_verified_by"] == "ad"


def test_the_staff_lookup_is_rate_limited_per_member(app, make_user):
    app.config["RATE_LIMITS"]["STAFF_CHECK_PER_ACCOUNT"] = "2 per hour"
    web = member(app, make_user, "p@example.com")
    prayoon = {"citizen_id": "5209900456784", "first_name_th": "ประยูร", "last_name_th": "มั่นคง",
               "birthdate": "00/00/2490"}   # in neither source: every lookup asks both
    _rename(app, "p@example.com", prayoon)
    staff_check(web, prayoon)
    staff_check(web, prayoon)
    response = staff_check(web, prayoon)
    assert response.status_code == 429 and "Too many staff checks" in response.get_data(as_text=True)
    assert tags(app).count("verification:staff:throttled") == 1


def _rename(app, email, person):
    from idp.accounts.service import find_by_email
    from idp.db import db

    with app.app_context():
        user = find_by_email(email)
        user.given_name_th, user.family_name_th = person["first_name_th"], person["last_name_th"]
        db.session.commit()


def test_staff_check_without_a_stored_identity_is_a_clear_page_not_a_500(app, make_user):
    from idp.accounts.service import find_by_email
    from idp.db import db

    web = member(app, make_user)
    with app.app_context():
        find_by_email("s@example.com").identity_verified = True  # a row with no citizen ID
        db.session.commit()
    response = staff_check(web)
    assert response.status_code == 409
    assert "verify your identity" in response.get_data(as_text=True)
    assert stored(app)["staff_status"] == "none"
