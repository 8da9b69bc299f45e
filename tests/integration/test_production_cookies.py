"""Production over https: both cookies carry the ``__Host-`` prefix (Secure, Path=/, no
Domain, so no sibling host can set or shadow them) and every response carries HSTS.
Development on loopback keeps the plain names and sends no HSTS."""

from __future__ import annotations

import pytest

from tests.support.flows import PASSWORD, csrf_token

ISSUER = "https://account.moc.go.th"
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def production(build, tmp_path):
    from idp.accounts.pdpa import generate_key
    from idp.verification.ad import FileStaffDirectory
    from idp.verification.dopa.file import FileCitizenRegistry
    from idp.verification.dpis import FileHrSystem

    stand_ins = {"citizen_registry": FileCitizenRegistry(_empty(tmp_path, "persons")),
                 "staff_directory": FileStaffDirectory([]), "hr_system": FileHrSystem([])}
    return build({"MODE": "production", "ISSUER": ISSUER, "SECRET_KEY": "s" * 40,
                  "MAIL": {"BACKEND": "smtp"}, "DOPA": {"BACKEND": "gdx"},
                  "AD": {"BACKEND": "ldap"}, "DPIS": {"BACKEND": "sql"},
                  "PDPA": {"ENCRYPTION_KEYS": {"k1": generate_key()}, "CURRENT_KEY": "k1",
                           "HMAC_KEY": generate_key()}}, extra_adapters=stand_ins)


def _empty(tmp_path, key):
    path = tmp_path / f"{key}.json"
    path.write_text(f'{{"{key}": []}}')
    return path


def sign_in(app, base_url):
    from idp.accounts.service import create_user
    from idp.db import db

    with app.app_context():
        create_user("somchai@example.com", PASSWORD, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
    web = app.test_client()
    page = web.get("/login", base_url=base_url)
    response = web.post("/login", base_url=base_url, headers={"Referer": f"{base_url}/login"},
                        data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                              "email": "somchai@example.com", "password": PASSWORD})
    return page, response


def cookie(response, name) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {response.headers.getlist('Set-Cookie')}"
    return found[0]


def test_production_cookies_carry_the_host_prefix_and_every_response_hsts(production):
    page, response = sign_in(production, ISSUER)
    assert response.status_code == 302
    for header in (cookie(response, "__Host-moc_sso"), cookie(page, "__Host-moc_ui")):
        assert "Secure" in header and "Path=/" in header and "Domain" not in header
        assert "HttpOnly" in header
    for answer in (page, response, production.test_client().get("/jwks.json", base_url=ISSUER)):
        assert answer.headers["Strict-Transport-Security"] == HSTS


def test_the_prefixed_sso_cookie_is_the_one_that_signs_the_member_in(production):
    _, response = sign_in(production, ISSUER)
    token = cookie(response, "__Host-moc_sso").split(";")[0].split("=", 1)[1]
    web = production.test_client()
    web.set_cookie("moc_sso", token, domain="account.moc.go.th")  # the old name no longer counts
    assert web.get("/account", base_url=ISSUER).status_code == 302
    web.set_cookie("__Host-moc_sso", token, domain="account.moc.go.th", secure=True)
    assert web.get("/account", base_url=ISSUER).status_code == 200


def test_hsts_is_configurable(production):
    production.config["SECURITY"]["HSTS"] = "max-age=63072000; includeSubDomains; preload"
    answer = production.test_client().get("/login", base_url=ISSUER)
    assert answer.headers["Strict-Transport-Security"].endswith("preload")


def test_development_keeps_the_plain_names_and_sends_no_hsts(app):
    page, response = sign_in(app, "http://localhost")
    assert cookie(response, "moc_sso") and cookie(page, "moc_ui")
    assert "Strict-Transport-Security" not in response.headers
