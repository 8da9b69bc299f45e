"""The pages' signed cookie (idp/security.py ``SignedCookieSessions``) keeps its serializer
between requests, but never past a change of key: a cookie signed with a key that was
replaced is refused, unless that key is listed in SECRET_KEY_FALLBACKS."""

from __future__ import annotations

from flask import session

from idp.security import SignedCookieSessions


def _cookie_from(app) -> str:
    with app.test_request_context():
        session["marker"] = "kept"
        return app.session_interface.get_signing_serializer(app).dumps(dict(session))


def _read(app, cookie: str) -> dict:
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(headers={"Cookie": f"{name}={cookie}"}):
        return dict(app.session_interface.open_session(app, app.request_class(
            {"HTTP_COOKIE": f"{name}={cookie}"})) or {})


def test_the_app_uses_the_cached_serializer(app):
    assert isinstance(app.session_interface, SignedCookieSessions)
    assert app.session_interface.get_signing_serializer(app) is \
        app.session_interface.get_signing_serializer(app)


def test_a_cookie_signed_with_a_replaced_key_is_refused(app):
    cookie = _cookie_from(app)
    assert _read(app, cookie).get("marker") == "kept"
    old_key, app.secret_key = app.secret_key, "another key entirely, long enough to sign"
    try:
        assert _read(app, cookie).get("marker") is None
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert _read(app, cookie).get("marker") == "kept"
    finally:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = old_key, []
