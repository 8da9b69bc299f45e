"""The admin console: an admin registers a relying party, which then signs people in."""

from __future__ import annotations

import secrets

from tests.e2e.pages import DESKTOP, Console, Member, RelyingParty
from tests.support.live import loopback_socket, serve, url_of


def test_admin_registers_a_client_and_a_service_signs_in_with_its_settings(
        open_tab, idp, existing_account):
    sock = loopback_socket()  # the new service's address, known before it is registered
    base_url = url_of(sock)
    admin = Console(open_tab("admin", viewport=DESKTOP), existing_account(permanent=True, roles=["admin"]))
    admin.sign_in_and_enrol()
    client_id, client_secret = admin.register_client(
        "e-Service ทดสอบ", f"{base_url}/callback", f"{base_url}/")
    assert client_id and client_secret
    assert admin.page.locator("#discovery-url").inner_text().strip() == (
        f"{idp.url}/.well-known/openid-configuration")

    from clients.demo_rp import create_app

    service = serve(create_app({"ISSUER": idp.url, "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret,
                                "SECRET_KEY": secrets.token_urlsafe(32), "BASE_URL": base_url}), sock)
    try:
        tab = open_tab("member")
        account = existing_account()
        rp = RelyingParty(tab, service.url, "e-service").open()
        rp.press_sign_in("login")
        assert tab.path == "/login"
        Member(tab).sign_in(account, "consent").allow("e-service-signed-in")
        claims = rp.claims()
        assert claims["aud"] == client_id or claims["aud"] == [client_id]
        assert claims["email"] == account.email
    finally:
        service.stop()
