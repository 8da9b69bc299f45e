"""The second factor of console roles: TOTP enrolment with a QR code, codes checked at the app's
clock, replay refused, single-use recovery codes, the admin idle timeout and step-up."""

from __future__ import annotations

import re

import admin_support
import sqlalchemy as sa

from idp.db import db

console = admin_support.console  # the fixture, shared by the console tests


def verify_page_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/admin/mfa/verify")


def credential_row(app, sub):
    from idp.accounts.service import find_by_sub
    from idp.admin.models import TotpCredential

    with app.app_context():
        user = find_by_sub(sub)
        return db.session.execute(sa.select(TotpCredential.__table__)
                                  .where(TotpCredential.user_id == user.id)).one()


def test_enrolment_shows_an_inline_svg_qr_code_and_the_same_secret_on_reload(console):
    admin = console(enrol=False)
    first = admin.web.get("/admin/mfa/enrol").get_data(as_text=True)
    again = admin.web.get("/admin/mfa/enrol").get_data(as_text=True)
    assert re.search(r"<svg[^>]*>.*<path", first, re.S)
    assert "<script" not in first and "http" not in first.split("<svg", 1)[1].split("</svg>")[0]
    from admin_support import page_secret

    assert page_secret(first) == page_secret(again)


def test_enrolment_needs_a_right_code_from_the_app(console):
    admin = console(enrol=False)
    from admin_support import page_secret

    from tests.support.flows import csrf_token

    html = admin.web.get("/admin/mfa/enrol").get_data(as_text=True)
    admin.secret = page_secret(html)
    wrong = admin.web.post("/admin/mfa/enrol", data={"csrf_token": csrf_token(html), "code": "000000"})
    assert wrong.status_code == 400
    assert admin.web.get("/admin/").headers["Location"].startswith("/admin/mfa/enrol")


def test_the_secret_is_stored_encrypted(app, console):
    admin = console()
    row = credential_row(app, admin.sub)
    assert admin.secret not in row.secret_encrypted and row.confirmed_at is not None


def test_enrolment_gives_ten_single_use_recovery_codes_and_opens_the_console(console):
    admin = console()
    assert len(admin.recovery_codes) == 10 and len(set(admin.recovery_codes)) == 10
    assert admin.web.get("/admin/").status_code == 200


def test_a_code_is_checked_at_the_apps_clock(console):
    import pyotp

    admin = console()
    admin.clock.advance(hours=1)
    assert verify_page_redirect(admin.web.get("/admin/"))  # idle over 30 minutes: asks again
    assert admin.verify(pyotp.TOTP(admin.secret).now()).status_code == 401  # the real time's code
    assert admin.verify(admin.code(seconds=-120)).status_code == 401  # two minutes old
    assert admin.verify(admin.code()).status_code == 302
    assert admin.web.get("/admin/").status_code == 200


def test_one_step_of_clock_drift_is_accepted(console):
    admin = console()
    admin.clock.advance(hours=1)
    assert admin.verify(admin.code(seconds=30)).status_code == 302  # the phone runs 30 s fast


def test_a_code_cannot_be_used_twice(console):
    """RFC 6238 5.2: "the verifier MUST NOT accept the second attempt of the OTP after the
    successful validation has been issued for the first OTP"."""
    admin = console()
    admin.clock.advance(hours=1)
    code = admin.code()
    assert admin.verify(code).status_code == 302
    assert admin.verify(code).status_code == 401  # same time, same window: refused


def test_the_code_used_for_enrolment_cannot_be_replayed(console):
    admin = console()
    assert admin.verify(admin.code()).status_code == 401
    assert admin.verify(admin.code(seconds=-30)).status_code == 401  # an older step neither


def test_recovery_codes_work_once(console):
    admin = console()
    admin.clock.advance(hours=1)
    code = admin.recovery_codes[0]
    assert admin.verify(code.upper().replace("-", " ")).status_code == 302
    admin.clock.advance(hours=1)
    assert admin.verify(code).status_code == 401
    assert admin.verify(admin.recovery_codes[1]).status_code == 302
    assert "Unused recovery codes: 8" in admin.text("/admin/")


def test_recovery_codes_are_stored_hashed(app, console):
    from idp.admin.models import RecoveryCode

    admin = console()
    with app.app_context():
        stored = db.session.execute(sa.select(RecoveryCode.code_hash)).scalars().all()
    assert len(stored) == 10
    assert not any(code.replace("-", "") in "".join(stored) for code in admin.recovery_codes)


def test_new_recovery_codes_replace_the_old_ones(console):
    admin = console()
    old = admin.recovery_codes
    response = admin.post("/admin/mfa/recovery-codes", csrf_from="/admin/")
    from admin_support import page_codes

    new = page_codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    admin.clock.advance(hours=1)
    assert admin.verify(old[0]).status_code == 401
    assert admin.verify(new[0]).status_code == 302


def test_wrong_codes_are_throttled(console):
    admin = console()
    admin.clock.advance(hours=1)
    for _ in range(5):
        assert admin.verify("000000").status_code == 401
    admin.clock.advance(seconds=30)
    response = admin.verify(admin.code())
    assert response.status_code == 401 and "15" in response.get_data(as_text=True)


def test_admin_session_asks_again_after_30_idle_minutes(console):
    admin = console()
    admin.clock.advance(minutes=29)
    assert admin.web.get("/admin/").status_code == 200  # activity keeps it alive
    admin.clock.advance(minutes=29)
    assert admin.web.get("/admin/").status_code == 200
    admin.clock.advance(minutes=31)
    response = admin.web.get("/admin/clients")
    assert verify_page_redirect(response)
    assert "next=/admin/clients" in response.headers["Location"]
    back = admin.verify(next_path="/admin/clients")
    assert back.headers["Location"] == "/admin/clients"


def test_the_next_page_after_verifying_stays_in_the_console(console):
    admin = console()
    admin.clock.advance(hours=1)
    response = admin.verify(next_path="https://evil.example/")
    assert response.headers["Location"] == "/admin/"


def test_sensitive_actions_need_a_fresh_second_factor(console):
    admin = console()
    admin.clock.advance(minutes=6)  # still active, but the last code is 6 minutes old
    assert admin.web.get("/admin/clients").status_code == 200
    form = admin.web.get("/admin/clients/new")
    assert verify_page_redirect(form)
    response = admin.post("/admin/clients/new", name="RP", redirect_uris="https://rp.example/cb",
                          token_endpoint_auth_method="client_secret_basic", scopes="openid",
                          grant_types="authorization_code")
    assert verify_page_redirect(response)
    assert admin.verify().status_code == 302
    assert admin.web.get("/admin/clients/new").status_code == 200


def test_mfa_state_is_kept_on_the_server_session(app, console):
    from idp.accounts.models import LoginSession

    admin = console()
    with app.app_context():
        sessions = db.session.execute(sa.select(LoginSession)).scalars().all()
        assert [s.mfa_at is not None for s in sessions] == [True]
    other_browser = type(admin)(app, admin.clock, admin.email, admin.sub).sign_in()
    assert verify_page_redirect(other_browser.web.get("/admin/"))  # a new sign-in asks again
