"""The identity check with DOPA (the stand-in registry and a real one that is down), and the
citizen ID as personal data."""

from __future__ import annotations

import logging

import pytest

from tests.support.flows import PASSWORD, csrf_token, decode_jwt

SOMCHAI = {"citizen_id": "1-1017-00230-70-8", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}
RAW_ID = "1101700230708"


@pytest.fixture
def member(make_user, web):
    from tests.support.flows import Flow

    make_user()
    Flow(web, "unused").sign_in()
    return web


def submit(web, **changes):
    page = web.get("/verify/identity").get_data(as_text=True)
    form = {**SOMCHAI, **changes, "csrf_token": csrf_token(page)}
    return web.post("/verify/identity", data=form)


def stored(app, email="somchai@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return {c.name: getattr(user, c.name) for c in user.__table__.columns}


def test_matching_data_makes_the_account_permanent(app, member):
    response = submit(member)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    user = stored(app)
    assert user["account_type"] == "permanent" and user["expires_at"] is None
    assert user["identity_verified"] is True
    assert user["verified_given_name_th"] == "สมชาย" and user["verified_family_name_th"] == "ใจดี"
    assert user["citizen_id_masked"] == "x-xxxx-xxxx0-70-8"


def test_citizen_id_is_encrypted_found_by_keyed_hash_and_shown_masked(app, member):
    from idp.accounts.pdpa import vault

    submit(member)
    user = stored(app)
    assert RAW_ID not in user["citizen_id_encrypted"] and RAW_ID not in user["citizen_id_hash"]
    with app.app_context():
        assert vault().decrypt(user["citizen_id_encrypted"]) == RAW_ID
        assert vault().digest(RAW_ID) == user["citizen_id_hash"]
    page = member.get("/account").get_data(as_text=True)
    assert "x-xxxx-xxxx0-70-8" in page and RAW_ID not in page


def test_after_verification_the_id_token_says_permanent_and_never_expires(app, member, make_client):
    from tests.support.flows import Flow

    submit(member)
    client_id, secret = make_client()
    tokens = Flow(member, client_id).tokens(secret)
    claims = decode_jwt(app, tokens["id_token"])
    assert claims["moc_account_type"] == "permanent" and claims["moc_account_expires_at"] is None
    assert claims["moc_identity_verified"] is True
    assert RAW_ID not in tokens["id_token"] and RAW_ID not in str(claims)


@pytest.mark.parametrize("changes", [
    {"first_name_th": "สมศักดิ์"}, {"last_name_th": "ใจร้าย"}, {"birthdate": "15/03/2528"},
    {"citizen_id": "3100500123458"},
])
def test_mismatching_data_changes_nothing_and_keeps_the_form(app, member, changes):
    response = submit(member, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert stored(app)["account_type"] == "temporary" and stored(app)["citizen_id_hash"] is None
    typed = changes.get("first_name_th") or changes.get("last_name_th") or "สมชาย"
    assert typed in html


def test_card_no_longer_valid_tells_the_person_to_contact_the_district_office(app, web, make_user):
    from tests.support.flows import Flow

    make_user(email="w@example.com", given_name_th="วิไลวรรณ", family_name_th="ศรีสุข")
    Flow(web, "x").sign_in(email="w@example.com")
    web.get("/lang/en")
    response = submit(web, citizen_id="3700100987654", first_name_th="วิไลวรรณ",
                      last_name_th="ศรีสุข", birthdate="00/07/2503")  # day unknown, as on the card
    assert response.status_code == 422
    assert "district registration office" in response.get_data(as_text=True)
    assert stored(app, "w@example.com")["identity_verified"] is False


@pytest.mark.parametrize("citizen_id", ["1101700230709", "1111111111111", "12345", "abcdefghijklm"])
def test_invalid_citizen_ids_are_refused_before_any_call(app, member, citizen_id):
    response = submit(member, citizen_id=citizen_id)
    assert response.status_code == 400
    from idp.audit import events

    with app.app_context():
        assert [e for e in events("verification:dopa")] == []  # DOPA was never asked


def test_registry_that_cannot_be_reached_is_reported_as_down_and_changes_nothing(
        migrated, keys_dir, clock, adapters):
    from idp import create_app
    from idp.verification.dopa import citizen_registry_from_config
    from tests.support.smtp import free_port

    down = citizen_registry_from_config({"BACKEND": "soap", "URL": f"http://127.0.0.1:{free_port()}/ws",
                                         "TIMEOUT_SECONDS": 1, "RETRIES": 0})
    app = create_app({"ISSUER": "http://localhost", "DATABASE_URL": migrated,
                      "OIDC": {"KEYS_DIR": str(keys_dir)}},
                     adapters={**adapters, "citizen_registry": down})
    with app.app_context():
        from idp.accounts.service import create_user
        from idp.db import db
        from tests.support.flows import empty_tables as _empty_tables

        _empty_tables()
        create_user("somchai@example.com", PASSWORD, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
    web = app.test_client()
    from tests.support.flows import Flow

    Flow(web, "x").sign_in()
    web.get("/lang/en")
    assert 'name="laser_code"' in web.get("/verify/identity").get_data(as_text=True)  # real DOPA asks
    response = submit(web, laser_code="JT1-2345678-90")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "cannot be reached" in html
    assert 'value="สมชาย"' in html and "1-1017-00230-70-8" in html  # the form keeps what was typed
    assert stored(app)["account_type"] == "temporary"


def test_one_citizen_id_backs_at_most_one_account(app, web, member, make_user):
    from tests.support.flows import Flow

    submit(member)
    make_user(email="twin@example.com")
    other = app.test_client()
    Flow(other, "x").sign_in(email="twin@example.com")
    response = submit(other)
    assert response.status_code == 422
    assert stored(app, "twin@example.com")["identity_verified"] is False


def test_attempts_are_rate_limited_per_account(app, member):
    for _ in range(5):
        submit(member, first_name_th="ผิด")
    assert submit(member).status_code == 429
    assert stored(app)["identity_verified"] is False


def test_attempts_are_rate_limited_per_citizen_id_across_accounts(app, make_user):
    from tests.support.flows import Flow

    app.config["RATE_LIMITS"]["IDENTITY_CHECK_PER_CITIZEN_ID"] = "2 per hour"
    for n in range(3):
        make_user(email=f"p{n}@example.com")
        web = app.test_client()
        Flow(web, "x").sign_in(email=f"p{n}@example.com")
        status = submit(web, first_name_th="ผิด").status_code
    assert status == 429


def test_citizen_id_never_reaches_a_log_line_or_the_audit_log(app, member, caplog):
    from idp.audit import AuditEvent
    from idp.db import db

    caplog.set_level(logging.DEBUG)
    submit(member, first_name_th="ผิด")
    submit(member)
    assert RAW_ID not in caplog.text and "1-1017-00230-70-8" not in caplog.text
    with app.app_context():
        rows = db.session.execute(db.select(AuditEvent)).scalars().all()
        assert all(RAW_ID not in str(r.details) for r in rows)
        assert "verification:dopa:matched" in [r.tag for r in rows]


def test_citizen_id_is_never_in_a_url(member):
    response = submit(member)
    assert RAW_ID not in response.headers.get("Location", "")


def test_expired_member_can_still_verify_and_then_use_services(app, member, make_client, clock):
    from tests.support.flows import Flow, query_of

    client_id, secret = make_client()
    clock.advance(days=61)
    flow = Flow(member, client_id)
    flow.sign_in()
    page = flow.authorize()
    assert page.status_code == 403 and "/verify" in page.get_data(as_text=True)
    assert "Verify" in member.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True) \
        or "ยืนยันตัวตน" in member.get("/account").get_data(as_text=True)
    submit(member)
    clock.advance(seconds=1)
    assert "code" in query_of(flow.follow(flow.authorize()).headers["Location"])
    assert stored(app)["expires_at"] is None
