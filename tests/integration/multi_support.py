"""Two `moc-idp serve` instances on one PostgreSQL database and one Redis, behind nginx with TLS:
the pieces test_multi_instance.py drives.

nginx listens three times with one certificate: the public address, whose upstream is the
documented one with both instances (round robin), and one listener pinned to each instance, with
the same proxy headers, so a test can send a given request to A or to B as a load balancer
might. The issuer's host name (``account.moc.test``, reserved for tests) resolves to 127.0.0.1 in
this process only: it is not a loopback name, so the IdP sets its cookies Secure as in production.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from tests.support.flows import pkce_pair, query_of
from tests.support.instances import LOOPBACK, Instance, free_port
from tests.support.live import BrowserSession, Member

HOST = "account.moc.test"
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx.conf"
CALLBACK = "https://rp.example/callback"


# --- nginx ---------------------------------------------------------------------------------

def public_site(example: str, ports: dict, certificates: Path) -> str:
    """The documented example with this run's ports, host name and certificate."""
    a, b = ports["A"], ports["B"]
    for old, new in (("listen 80;", f"listen {LOOPBACK}:{free_port()};"),
                     ("listen 443 ssl http2;", f"listen {LOOPBACK}:{ports['public']} ssl http2;"),
                     ("server 127.0.0.1:8000 ", f"server {LOOPBACK}:{a} "),
                     ("server 127.0.0.1:8001 ", f"server {LOOPBACK}:{b} "),
                     ("account.moc.go.th", HOST),
                     (f"/etc/ssl/moc/{HOST}.crt", str(certificates / "server.pem")),
                     (f"/etc/ssl/moc/{HOST}.key", str(certificates / "server.key"))):
        assert old in example, old
        example = example.replace(old, new)
    return example


def pinned_site(public: str, ports: dict) -> str:
    """The public TLS server block again, once per instance, on its own port and proxying to
    that instance only (a test's way of choosing where a request goes)."""
    block = re.search(r"server \{\n    listen 127\.0\.0\.1:\d+ ssl.*?\n\}\n", public, re.S).group(0)
    pinned = []
    for name in ("A", "B"):
        copy = block.replace(f"{LOOPBACK}:{ports['public']} ssl", f"{LOOPBACK}:{ports['via ' + name]} ssl")
        pinned.append(copy.replace("proxy_pass http://moc_idp;", f"proxy_pass http://{LOOPBACK}:{ports[name]};"))
    return public + "\n" + "\n".join(pinned)


# --- the relying party's back-channel receiver ----------------------------------------------

class LogoutReceiver:
    """A loopback HTTP server counting the back-channel logout POSTs it receives."""

    def __init__(self):
        self.tokens: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                receiver.tokens.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/backchannel-logout"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the cluster ---------------------------------------------------------------------------

@dataclass
class Cluster:
    """Both instances, nginx's addresses, the CA that signed its certificate, and an app in this
    process on the same database for making accounts and clients and reading the audit log."""

    app: object
    instances: dict[str, Instance]
    ports: dict
    ca_file: Path
    folder: Path
    config_file: Path
    receiver: LogoutReceiver
    clients: dict = field(default_factory=dict)

    def url(self, via: str = "public") -> str:
        """The public address, or the listener pinned to instance ``via`` ("A" or "B")."""
        port = self.ports["public" if via == "public" else "via " + via]
        return f"https://{HOST}:{port}"

    @property
    def issuer(self) -> str:
        return self.url()

    def create_member(self, **names) -> Member:
        from idp.accounts.service import create_user
        from idp.db import db

        email, password = f"member-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
        with self.app.app_context():
            user = create_user(email, password, given_name_th=names.get("first", "สมชาย"),
                               family_name_th=names.get("last", "ใจดี"), **names.get("fields", {}))
            db.session.commit()
            return Member(user.sub, user.email, password)

    def create_client(self, name: str, **settings) -> tuple[str, str]:
        from idp.db import db
        from idp.oidc.clients import create_client

        with self.app.app_context():
            registered = create_client(name, [CALLBACK], trusted=True, **settings)
            db.session.commit()
            return registered.client.client_id, registered.client_secret

    def browser(self, member: Member, via: str = "public") -> Browser:
        return Browser(self, member, via)

    def token(self, via: str, client: tuple[str, str], **form) -> requests.Response:
        return requests.post(f"{self.url(via)}/token", data=form, auth=client,
                             verify=str(self.ca_file), timeout=30)


class Browser(BrowserSession):
    """A person's browser: trusts the test CA, and sends the page it came from as Referer (the
    CSRF check over https compares it with the host, as Flask-WTF does for a real browser)."""

    def __init__(self, cluster: Cluster, member: Member, via: str):
        super().__init__(cluster.url(via), member)
        self.cluster = cluster
        self.verify, self.trust_env = str(cluster.ca_file), False
        self.hooks["response"].append(self._remember_page)

    def _remember_page(self, response, *_args, **_kwargs):
        self.headers["Referer"] = response.url

    def at(self, via: str) -> Browser:
        """Send what follows to instance ``via`` (the same cookies: one host name)."""
        self.issuer = self.cluster.url(via)
        return self

    def authorize(self, client_id: str, **extra) -> tuple[requests.Response, str]:
        """GET /authorize at the current instance, not following; and the PKCE verifier."""
        verifier, challenge = pkce_pair()
        params = {"client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code",
                  "scope": "openid", "state": secrets.token_hex(4), "nonce": secrets.token_hex(4),
                  "code_challenge": challenge, "code_challenge_method": "S256", **extra}
        return self.get(f"{self.issuer}/authorize?{urlencode(params)}", allow_redirects=False), verifier

    def code(self, client_id: str, **extra) -> tuple[str, str]:
        """A code for ``client_id`` through sign-in where needed; with its PKCE verifier."""
        verifier, challenge = pkce_pair()
        params = {"client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code",
                  "scope": "openid", "state": "s", "nonce": "n", "code_challenge": challenge,
                  "code_challenge_method": "S256", **extra}
        response = self.sign_in(f"{self.issuer}/authorize?{urlencode(params)}", stop_at=CALLBACK)
        answer = query_of(response.headers["Location"]) if response.is_redirect else {}
        if "code" not in answer:
            stopped_at = f"HTTP {response.status_code} at {urlsplit(response.url).path}"
            raise NoCode(answer.get("error") or stopped_at)
        return answer["code"], verifier


class NoCode(AssertionError):
    """The IdP answered an authorization without a code: its error, or the page it stopped on."""


def redeem(cluster: Cluster, via: str, client, code: str, verifier: str) -> requests.Response:
    """POST the code to instance ``via``'s token endpoint."""
    return cluster.token(via, client, grant_type="authorization_code", code=code,
                         redirect_uri=CALLBACK, code_verifier=verifier)


def jwt_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


# --- starting it ---------------------------------------------------------------------------

def cluster_config(issuer: str, database_url: str, redis_url: str, folder: Path) -> dict:
    """One configuration for both instances (and for `moc-idp` commands against them)."""
    from idp.accounts.pdpa import generate_key

    return {
        "ISSUER": issuer, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "OIDC": {"KEY_STORE": "database", "KEY_ENCRYPTION_KEYS": {"kek1": generate_key()},
                 "CURRENT_KEY_ENCRYPTION_KEY": "kek1", "KEYS_DIR": str(folder / "no-keys-here"),
                 "KEY_ACTIVATION_DELAY_SECONDS": 2},
        "SERVER": {"KEYS_RECHECK_SECONDS": 1, "THREADS": 8},
        "DOCUMENTS": {"BACKEND": "database"},
        "PROXY": {"TRUSTED_HOPS": 1, "TRUSTED_NETWORKS": [f"{LOOPBACK}/32"]},
        # Low enough to spend from two instances; the per-address total is not under test.
        "RATE_LIMITS": {"LOGIN_PER_ACCOUNT_IP": "3 per 15 minutes",
                        "LOGIN_PER_IP": "100000 per 15 minutes"},
    }
