"""Sign-in, the server-side SSO session, rate limits and the audit trail."""

from __future__ import annotations

from tests.support.flows import PASSWORD, csrf_token


def sign_in(web, email="somchai@example.com", password=PASSWORD):
    page = web.get("/login")
    return web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                    "email": email, "password": password})


def audit_tags(app, prefix):
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events(prefix)]


def test_sign_in_sets_an_httponly_samesite_cookie_naming_a_server_side_session(app, web, make_user):
    make_user()
    response = sign_in(web)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("moc_sso="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # loopback issuer; https issuers get Secure
    token = cookie.split(";")[0].split("=", 1)[1]
    from idp.accounts.models import LoginSession
    from idp.db import db

    with app.app_context():
        stored = db.session.execute(db.select(LoginSession)).scalar_one()
        assert stored.token_hash != token and stored.amr == ["pwd"]


def test_cookie_is_secure_when_the_issuer_is_https(migrated, keys_dir):
    from idp import create_app

    app = create_app({"ISSUER": "https://account.moc.go.th", "DATABASE_URL": migrated,
                      "OIDC": {"KEYS_DIR": str(keys_dir)}})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_request_context("/"):
        from flask import g, make_response

        from idp.accounts.sessions import write_cookie

        g.idp_session_cookie = "value"
        header = write_cookie(make_response("")).headers["Set-Cookie"]
    assert "Secure" in header


def test_wrong_password_and_unknown_email_get_the_same_answer(web, make_user):
    make_user()
    wrong = sign_in(web, password="wrong password")
    unknown = sign_in(web, email="nobody@example.com", password="wrong password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The email or password is incorrect."
    assert message in wrong.get_data(as_text=True) or "อีเมลหรือรหัสผ่าน" in wrong.get_data(as_text=True)
    strip = lambda r: r.get_data(as_text=True).replace("nobody@example.com", "").replace(  # noqa: E731
        "somchai@example.com", "")
    assert _without_csrf(strip(wrong)) == _without_csrf(strip(unknown))


def _without_csrf(html):
    import re

    return re.sub(r'value="[^"]*" id="csrf_token"|name="csrf_token"[^>]*>', "", html)


def test_email_is_matched_case_insensitively(web, make_user):
    make_user(email="Somchai@Example.com")
    assert sign_in(web, email="SOMCHAI@example.COM").status_code == 302


def test_login_without_csrf_token_is_refused(web, make_user):
    make_user()
    response = web.post("/login", data={"email": "somchai@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "moc_sso=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_failures_are_rate_limited_per_account_and_ip_even_with_the_right_password(app, web, make_user):
    make_user()
    for _ in range(5):
        assert sign_in(web, password="wrong password").status_code == 401
    assert sign_in(web).status_code == 429
    assert "account:login:throttled" in audit_tags(app, "account:login")


def test_unknown_emails_are_rate_limited_the_same_way(web):
    for _ in range(5):
        sign_in(web, email="ghost@example.com", password="x" * 10)
    assert sign_in(web, email="ghost@example.com", password="x" * 10).status_code == 429


def test_failures_are_rate_limited_per_ip_across_accounts(app, web):
    app.config["RATE_LIMITS"]["LOGIN_PER_IP"] = "3 per 15 minutes"
    for n in range(3):
        sign_in(web, email=f"user{n}@example.com", password="x" * 10)
    assert sign_in(web, email="fresh@example.com", password="x" * 10).status_code == 429


def test_sign_in_success_and_failure_are_audited(app, web, make_user):
    make_user()
    sign_in(web, password="wrong password")
    sign_in(web)
    tags = audit_tags(app, "account:login")
    assert tags == ["account:login:failure", "account:login:success"]


def test_audit_records_never_hold_the_password(app, web, make_user):
    from idp.audit import AuditEvent
    from idp.db import db

    make_user()
    sign_in(web, password="wrong password")
    with app.app_context():
        rows = db.session.execute(db.select(AuditEvent)).scalars().all()
        assert rows and all("wrong password" not in str(r.details) for r in rows)


def test_disabled_account_cannot_sign_in(app, web, make_user):
    from idp.accounts.service import find_by_email
    from idp.clock import now
    from idp.db import db

    make_user()
    with app.app_context():
        find_by_email("somchai@example.com").disabled_at = now()
        db.session.commit()
    assert sign_in(web).status_code == 401


def test_disabling_an_account_ends_its_live_session(app, web, make_user):
    from idp.accounts.service import find_by_email
    from idp.clock import now
    from idp.db import db

    make_user()
    sign_in(web)
    assert web.get("/account").status_code == 200
    with app.app_context():
        find_by_email("somchai@example.com").disabled_at = now()
        db.session.commit()
    assert web.get("/account").headers["Location"] == "/login"


def test_sign_out_ends_the_session_on_the_server(app, web, make_user):
    make_user()
    response = sign_in(web)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("moc_sso="))
    page = web.get("/account")
    web.post("/signout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    replay = app.test_client()
    replay.set_cookie("moc_sso", cookie.split(";")[0].split("=", 1)[1])
    assert replay.get("/account").status_code == 302


def test_sign_out_without_csrf_token_does_nothing(web, make_user):
    make_user()
    sign_in(web)
    web.post("/signout")
    assert web.get("/account").status_code == 200


def test_idle_session_expires(web, make_user, clock):
    make_user()
    sign_in(web)
    clock.advance(hours=2, seconds=1)
    assert web.get("/account").status_code == 302


def test_language_switch_is_remembered_and_refuses_offsite_next(web):
    response = web.get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    assert '<html lang="en">' in web.get("/").get_data(as_text=True)
    web.get("/lang/th?next=/login")
    assert '<html lang="th">' in web.get("/login").get_data(as_text=True)


def test_thai_is_the_default_language(web):
    assert '<html lang="th">' in web.get("/", headers={"Accept-Language": ""}).get_data(as_text=True)


def test_thai_web_font_is_served_by_the_app(web):
    css = web.get("/static/css/site.css").get_data(as_text=True)
    assert "sarabun-thai-400-normal.woff2" in css and "http" not in css
    font = web.get("/static/fonts/sarabun-thai-400-normal.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"


def test_pages_forbid_framing_and_sniffing(web):
    response = web.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_sign_in_returns_to_a_same_site_next_path_only(web, make_user):
    make_user()
    for target, expected in (("/admin/", "/admin/"), ("https://evil.example/", "/account"),
                             ("//evil.example/x", "/account"), ("/\\evil.example", "/account")):
        page = web.get(f"/login?next={target}").get_data(as_text=True)
        response = web.post("/login", data={"csrf_token": csrf_token(page), "email": "somchai@example.com",
                                            "password": PASSWORD, "next": target})
        assert response.headers["Location"] == expected, target
