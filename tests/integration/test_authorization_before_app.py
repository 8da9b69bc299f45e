"""The code for a signed-in browser, issued before the app (idp/oidc/views/authorization.py,
``AuthorizationEndpoint``): the same answer as the app's, and the app answers everything else
(sign-in, consent, refusals, errors, form_post, the once-a-minute idle-time touch) with nothing
written before it does; the audit log and the access line still know who asked."""

from __future__ import annotations

import logging

import pytest

from idp.db import db
from tests.support.flows import query_of

BROWSER = {"REMOTE_ADDR": "198.51.100.23"}


@pytest.fixture
def signed_in(flow):
    """A signed-in browser whose client has consent: its next /authorize gets a code at once."""
    flow.code()
    return flow


def count(app, table: str) -> int:
    with app.app_context():
        return db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_the_code_comes_before_the_app_and_redeems(app, signed_in, app_requests):
    response = signed_in.authorize(state="s-1")
    assert response.status_code == 302 and app_requests == []
    query = query_of(response.headers["Location"])
    assert query["state"] == "s-1" and query["iss"] == app.config["ISSUER"]
    assert signed_in.exchange(query["code"], signed_in.secret).status_code == 200


def test_the_answer_is_the_apps_answer_but_for_the_code(signed_in, monkeypatch, app_requests):
    from idp.oidc.views.authorization import AuthorizationEndpoint

    before = signed_in.authorize(state="same")
    monkeypatch.setattr(AuthorizationEndpoint, "_code", staticmethod(lambda bare: None))
    by_the_app = signed_in.authorize(state="same")
    assert app_requests == ["/authorize"]  # the second only
    assert before.status_code == by_the_app.status_code == 302
    assert sorted(before.headers.keys()) == sorted(by_the_app.headers.keys())
    for name in ("Cache-Control", "Pragma", "Referrer-Policy", "Content-Security-Policy",
                 "X-Frame-Options", "X-Content-Type-Options", "Content-Type"):
        assert before.headers[name] == by_the_app.headers[name], name
    first, second = query_of(before.headers["Location"]), query_of(by_the_app.headers["Location"])
    assert first.keys() == second.keys() and first["code"] != second["code"]
    assert before.headers["X-Request-ID"] != by_the_app.headers["X-Request-ID"]


def test_the_grant_is_audited_with_the_browsers_address(app, signed_in):
    from idp import audit

    with app.app_context():
        already = len(audit.events("oidc:authorization:granted"))
    signed_in.web.get("/authorize", query_string=signed_in.params(), environ_base=BROWSER,
                      headers={"User-Agent": "Firefox/140"})
    with app.app_context():
        granted = audit.events("oidc:authorization:granted")
        assert len(granted) == already + 1
        assert (granted[-1].ip, granted[-1].user_agent) == ("198.51.100.23", "Firefox/140")


def test_the_access_line_names_the_endpoint_client_and_person(build, capsys):
    from tests.integration.test_logs import access_lines, member_and_client
    from tests.support.flows import Flow

    app = build({"LOGGING": {"FORMAT": "json"}})
    sub, client_id, _ = member_and_client(app)
    flow = Flow(app.test_client(), client_id)
    flow.sign_in(password="a good long passphrase 42")
    flow.code()
    capsys.readouterr()
    response = flow.authorize()
    [line] = access_lines(capsys)
    assert line["endpoint"] == "oidc.authorize_endpoint" and line["status"] == 302
    assert line["client_id"] == client_id and line["sub"] == sub
    assert line["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("extra", [
    pytest.param({"prompt": "login"}, id="prompt=login"),
    pytest.param({"prompt": "consent"}, id="prompt=consent"),
    pytest.param({"prompt": "select_account"}, id="prompt=select_account"),
    pytest.param({"max_age": "0"}, id="max_age passed"),
    pytest.param({"response_mode": "form_post"}, id="form_post"),
    pytest.param({"response_type": "token"}, id="an invalid request"),
    pytest.param({"client_id": "no-such-client"}, id="an unknown client"),
    pytest.param({"redirect_uri": "https://evil.example/callback"}, id="an unregistered redirect"),
])
def test_anything_but_the_code_in_the_query_is_the_apps(app, signed_in, app_requests, clock, extra):
    clock.advance(seconds=1)  # so that max_age=0 has passed
    codes, pending = count(app, "oauth_authorization_codes"), count(app, "oidc_pending_authorizations")
    response = signed_in.authorize(**extra)
    assert app_requests == ["/authorize"]
    issued = count(app, "oauth_authorization_codes") - codes
    asked = count(app, "oidc_pending_authorizations") - pending
    # the app's own answer: a page to visit (one pending request, no code), the code in a form,
    # or the error; never a second code or request written before the app was asked
    assert (issued, asked) in ((0, 1), (1, 0), (0, 0))
    if "response_mode" in extra:
        assert response.status_code == 200 and issued == 1
    if "response_type" in extra:
        assert query_of(response.headers["Location"])["error"] == "unsupported_response_type"
    if "client_id" in extra or "redirect_uri" in extra:  # never sent back to an unverified URI
        assert response.status_code == 400 and "Location" not in response.headers and issued == 0


def test_a_browser_without_a_session_goes_to_the_app(flow, app_requests):
    response = flow.authorize()
    assert app_requests == ["/authorize"] and "/login" in response.headers["Location"]


def test_a_client_without_consent_goes_to_the_app(app, flow, make_client, app_requests):
    flow.code()
    other_id, _ = make_client(name="Another RP")
    flow.client_id = other_id
    app_requests.clear()
    response = flow.authorize()
    assert app_requests == ["/authorize"] and "/consent" in response.headers["Location"]
    assert count(app, "oidc_pending_authorizations") == 1


def test_the_idle_time_touch_is_the_apps_once_a_minute(signed_in, clock, app_requests):
    clock.advance(seconds=30)
    assert "code" in query_of(signed_in.authorize().headers["Location"])
    assert app_requests == []  # touched less than a minute ago: before the app
    clock.advance(seconds=31)
    assert "code" in query_of(signed_in.authorize().headers["Location"])
    assert app_requests == ["/authorize"]  # a touch is due: the app's hook writes it
    assert "code" in query_of(signed_in.authorize().headers["Location"])
    assert app_requests == ["/authorize"]


def test_a_failure_before_the_commit_is_answered_by_the_app(app, signed_in, monkeypatch, caplog,
                                                            app_requests):
    from idp.oidc import codes

    real, calls = codes.issue_code, []

    def broken_once(**kwargs):
        calls.append(1)
        code = real(**kwargs)
        if len(calls) == 1:
            raise TypeError("a bug before the commit")
        return code

    monkeypatch.setattr("idp.oidc.views.authorization.issue_code", broken_once)
    before = count(app, "oauth_authorization_codes")
    with caplog.at_level(logging.ERROR, logger="idp.oidc.views.authorization"):
        response = signed_in.authorize()
    assert "code" in query_of(response.headers["Location"]) and len(calls) == 2
    assert app_requests == ["/authorize"]
    assert count(app, "oauth_authorization_codes") == before + 1  # the first was rolled back
    assert any("a bug before the commit" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_a_refused_account_is_the_apps_to_refuse(app, flow, make_client, app_requests):
    """The client's policy refuses this person (staff only): the app shows why, and no code is
    issued, whatever the browser's session."""
    flow.code()
    staff_only_id, _ = make_client(name="Staff RP", staff_only=True, trusted=True)
    flow.client_id = staff_only_id
    codes = count(app, "oauth_authorization_codes")
    app_requests.clear()
    response = flow.authorize()
    assert app_requests == ["/authorize"] and response.status_code == 403
    assert count(app, "oauth_authorization_codes") == codes


def test_the_code_is_one_body_the_server_writes_at_once(app, signed_in):
    """A list of one bytes object: the server sends it without calling back into Python."""
    from werkzeug.test import EnvironBuilder

    name = app.config["SESSION"]["COOKIE_NAME"]
    cookie = signed_in.web.get_cookie(name).value
    environ = EnvironBuilder(path="/authorize", query_string=signed_in.params(),
                             headers={"Cookie": f"{name}={cookie}"}).get_environ()
    statuses = []
    body = app.wsgi_app(environ, lambda status, headers, exc=None: statuses.append(status))
    assert statuses == ["302 FOUND"] and isinstance(body, list) and len(body) == 1
