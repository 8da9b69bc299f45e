"""Live servers for interop tests: the IdP and the demo RP on loopback ports, in threads.

Each server listens on a socket bound before its app is built, so the app can know its own
URL (the IdP's issuer, the RP's redirect URIs) without racing for a free port.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

LOOPBACK = "127.0.0.1"
DATABASE_URL_VARIABLE = "IDP_TEST_DATABASE_URL"


# --- serving ------------------------------------------------------------------------------

def loopback_socket() -> socket.socket:
    """A listening socket on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://{LOOPBACK}:{sock.getsockname()[1]}"


@dataclass
class LiveServer:
    """A WSGI app served by a background thread until ``stop()``."""

    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve(app: Flask, sock: socket.socket) -> LiveServer:
    """Serve ``app`` on the listening ``sock``, one thread per request."""
    url = url_of(sock)
    server = make_server(LOOPBACK, sock.getsockname()[1], app, threaded=True, fd=sock.fileno())
    sock.close()  # the server holds its own duplicate of the socket
    thread = threading.Thread(target=server.serve_forever, name=f"live:{app.name}", daemon=True)
    thread.start()
    return LiveServer(app, url, server, thread)


# --- the database -------------------------------------------------------------------------

@contextmanager
def scratch_database(workdir: Path, environ=os.environ) -> Iterator[str]:
    """A fresh, empty database URL: a new database on the server named by
    IDP_TEST_DATABASE_URL when set, else a SQLite file in ``workdir``."""
    server_url = environ.get(DATABASE_URL_VARIABLE)
    if not server_url:
        yield f"sqlite:///{workdir / 'idp.sqlite3'}"
        return
    with _postgresql_database(server_url) as url:
        yield url


@contextmanager
def _postgresql_database(server_url: str) -> Iterator[str]:
    """A uniquely named database on the server of ``server_url``, dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text

    name = f"idp_live_{secrets.token_hex(6)}"
    # pre-ping: a server restarted meanwhile (scripts/soak does) has closed the pooled connection
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the IdP ------------------------------------------------------------------------------

@dataclass
class Member:
    """An account created for a test, with the password to sign in with."""

    sub: str
    email: str
    password: str


@dataclass
class RegisteredClient:
    client_id: str
    client_secret: str | None


class LiveIdP:
    """The IdP served live; accounts and clients are made through its own services."""

    def __init__(self, live: LiveServer):
        self.live = live

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def app(self) -> Flask:
        return self.live.app

    def create_member(self, *, permanent: bool = False, given_name: str = "สมชาย",
                      family_name: str = "ใจดี") -> Member:
        """A new account with a random email and password (temporary unless ``permanent``)."""
        from idp.accounts.service import create_user
        from idp.db import db

        email, password = f"member-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
        with self.app.app_context():
            user = create_user(email, password, permanent=permanent,
                               given_name_th=given_name, family_name_th=family_name)
            db.session.commit()
            return Member(user.sub, user.email, password)

    def create_client(self, name: str, redirect_uri: str, **settings) -> RegisteredClient:
        """Register a client; ``settings`` as for ``idp.oidc.clients.create_client``."""
        from idp.db import db
        from idp.oidc.clients import create_client

        with self.app.app_context():
            registered = create_client(name, [redirect_uri], **settings)
            db.session.commit()
            return RegisteredClient(registered.client.client_id, registered.client_secret)

    def sign(self, claims: dict, *, typ: str = "JWT") -> str:
        """``claims`` as a JWT signed with the IdP's active RS256 key."""
        from idp.clock import now
        from idp.oidc.signing import key_store

        with self.app.app_context():
            return key_store().sign(claims, "RS256", now(), typ=typ)

    def token_request(self, client: RegisteredClient, **form) -> requests.Response:
        """POST ``form`` to the token endpoint with the client's credentials (basic auth)."""
        return requests.post(f"{self.url}/token", data=form,
                             auth=(client.client_id, client.client_secret), timeout=10)


def _migrate(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(revision="heads")


def _dispose_engines(app: Flask) -> None:
    from idp.db import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def live_idp(workdir: Path, environ=os.environ, *, settings: dict | None = None,
             adapters: dict | None = None) -> Iterator[LiveIdP]:
    """An IdP with a fresh database and keys, served on a free loopback port; ``settings``
    are merged over the live defaults, ``adapters`` go to ``create_app`` (e.g. a mailer)."""
    from idp import create_app
    from idp.config import merge

    sock = loopback_socket()
    with scratch_database(workdir, environ) as database_url:
        app = create_app(merge({
            "ISSUER": url_of(sock),
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "OIDC": {"KEYS_DIR": str(workdir / "keys")},
        }, settings or {}), adapters=adapters)
        _migrate(app)
        live = serve(app, sock)
        try:
            yield LiveIdP(live)
        finally:
            live.stop()
            _dispose_engines(app)


# --- the demo RP --------------------------------------------------------------------------

@dataclass
class LiveRP:
    """The demo RP served live, and the client it is registered as at the IdP."""

    live: LiveServer
    client: RegisteredClient

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def app(self) -> Flask:
        return self.live.app


@contextmanager
def live_demo_rp(idp: LiveIdP, *, name: str = "Demo RP", **client_settings) -> Iterator[LiveRP]:
    """The demo RP, registered at ``idp`` (consent required, back-channel logout on);
    ``client_settings`` as for ``LiveIdP.create_client`` (e.g. ``staff_only=True``)."""
    from clients.demo_rp import create_app

    sock = loopback_socket()
    base_url = url_of(sock)
    client = idp.create_client(
        name, f"{base_url}/callback", post_logout_redirect_uris=[f"{base_url}/"],
        backchannel_logout_uri=f"{base_url}/backchannel-logout", **client_settings,
    )
    app = create_app({
        "ISSUER": idp.url, "CLIENT_ID": client.client_id, "CLIENT_SECRET": client.client_secret,
        "SECRET_KEY": secrets.token_urlsafe(32), "BASE_URL": base_url,
    })
    live = serve(app, sock)
    try:
        yield LiveRP(live, client)
    finally:
        live.stop()


# --- a person with a browser --------------------------------------------------------------

@dataclass
class Form:
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """The forms of a page: each one's action and its named input values (not its buttons)."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(Form(attributes.get("action") or "", {}))
        elif tag == "input" and self.forms and attributes.get("name"):
            if attributes.get("type") not in ("submit", "button", "image"):
                self.forms[-1].fields[attributes["name"]] = attributes.get("value") or ""


def find_form(response: requests.Response, action_path: str) -> Form:
    """The form on the page whose action is ``action_path``, with its action made absolute."""
    parser = _FormParser()
    parser.feed(response.text)
    for form in parser.forms:
        action = urljoin(response.url, form.action)
        if urlsplit(action).path == action_path:
            return Form(action, form.fields)
    raise AssertionError(f"no form posting to {action_path} on {response.url}")


class SignInFailed(AssertionError):
    """The IdP did not accept the credentials."""


class BrowserSession(requests.Session):
    """Cookies and redirects like a browser's; signs in and consents at the IdP when asked."""

    MAX_STEPS = 20

    def __init__(self, issuer: str, member: Member):
        super().__init__()
        self.issuer, self.member = issuer.rstrip("/"), member

    def sign_in(self, url: str, *, stop_at: str | None = None) -> requests.Response:
        """GET ``url`` and go where it leads, signing in and approving consent on the IdP's
        pages; returns the last response, or the redirect whose target starts with ``stop_at``."""
        response = self.get(url, allow_redirects=False)
        for _ in range(self.MAX_STEPS):
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                if stop_at and target.startswith(stop_at):
                    return response
                response = self.get(target, allow_redirects=False)
            elif self.on_idp_page(response, "/login"):
                response = self._submit_credentials(response)
            elif self.on_idp_page(response, "/consent"):
                response = self.submit(response, "/consent", allow_redirects=False, decision="allow")
            else:
                return response
        raise AssertionError(f"more than {self.MAX_STEPS} steps from {url}")

    def on_idp_page(self, response: requests.Response, path: str) -> bool:
        """True when ``response`` is the IdP's page at ``path`` (e.g. /login) and is a form."""
        return (response.url.startswith(self.issuer + "/") and urlsplit(response.url).path == path
                and response.ok and "<form" in response.text)

    def submit(self, response: requests.Response, action_path: str, *,
               allow_redirects: bool = True, **fields) -> requests.Response:
        """Submit the page's form for ``action_path``: its hidden values plus ``fields``."""
        form = find_form(response, action_path)
        return self.post(form.action, data={**form.fields, **fields},
                         allow_redirects=allow_redirects)

    def _submit_credentials(self, login_page: requests.Response) -> requests.Response:
        response = self.submit(login_page, "/login", allow_redirects=False,
                               email=self.member.email, password=self.member.password)
        if not response.is_redirect:
            raise SignInFailed(f"the IdP refused the sign-in: HTTP {response.status_code}")
        return response
