"""openid-client, panva's Node library, as a relying party against the live IdP.

The node script runs in two steps around the sign-in: ``start`` prints the authorization URL,
this test signs in with a BrowserSession up to the redirect, and ``finish`` redeems the
callback URL and reports what the library validated and received.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.live import BrowserSession

NODE_DIR = Path(__file__).resolve().parent / "node"
RP_SCRIPT = NODE_DIR / "rp.mjs"
# Nothing listens here: the browser stops at the redirect to this address and hands the URL
# to the node script, as a browser would hand it to the RP's server.
RP_BASE = "http://127.0.0.1:8710"
REDIRECT_URI = f"{RP_BASE}/callback"
POST_LOGOUT_REDIRECT_URI = f"{RP_BASE}/"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """openid-client installed from the lock file, by ``npm ci`` when it is missing."""
    installed = NODE_DIR / "node_modules" / "openid-client"
    if not installed.is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is needed on PATH to install openid-client"
        done = subprocess.run([npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"npm ci failed: {done.stderr}"
    return installed


def run_node_rp(*args: str, stdin: dict | None = None) -> dict:
    """Run one step of rp.mjs and return the JSON it printed."""
    done = subprocess.run(
        ["node", str(RP_SCRIPT), *args], input=json.dumps(stdin) if stdin else None,
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, f"rp.mjs {args[0]} failed: {done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def node_client(idp):
    """The node RP's registration: consent required, a secret sent by HTTP Basic auth."""
    return idp.create_client("openid-client RP", REDIRECT_URI,
                             post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI])


@pytest.fixture(scope="module")
def node_member(idp):
    return idp.create_member()


@pytest.fixture(scope="module")
def node_browser(idp, node_member):
    with BrowserSession(idp.url, node_member) as session:
        yield session


def start_step(idp, node_client) -> dict:
    return run_node_rp("start", idp.url, node_client.client_id, node_client.client_secret,
                       REDIRECT_URI)


@pytest.fixture(scope="module")
def node_run(node_modules, idp, node_client, node_browser) -> dict:
    """A whole openid-client run: start, the person's sign-in, then finish."""
    pending = start_step(idp, node_client)
    redirect = node_browser.sign_in(pending["authorization_url"], stop_at=REDIRECT_URI)
    assert redirect.is_redirect, redirect.text[:500]
    finished = run_node_rp("finish", idp.url, node_client.client_id, node_client.client_secret,
                           redirect.headers["Location"], POST_LOGOUT_REDIRECT_URI, stdin=pending)
    return {"pending": pending, "finished": finished}


def test_authorization_request_uses_pkce_s256_state_and_nonce(node_run):
    pending = node_run["pending"]
    query = parse_qs(urlsplit(pending["authorization_url"]).query)

    digest = hashlib.sha256(pending["code_verifier"].encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [pending["state"]]
    assert query["nonce"] == [pending["nonce"]]
    assert query["response_type"] == ["code"]


def test_the_library_validates_the_id_token_and_its_moc_claims(node_run, idp, node_client, node_member):
    claims = node_run["finished"]["claims"]

    assert claims["iss"] == idp.url
    assert claims["aud"] == node_client.client_id
    assert claims["sub"] == node_member.sub
    assert claims["nonce"] == node_run["pending"]["nonce"]
    assert claims["moc_account_type"] == "temporary"
    assert claims["moc_staff"] is False
    assert claims["moc_account_expires_at"] > time.time()
    assert node_run["finished"]["scope"].split() == ["openid", "profile", "email", "moc", "offline_access"]


def test_userinfo_answers_for_the_same_person(node_run, node_member):
    userinfo = node_run["finished"]["userinfo"]

    assert userinfo["sub"] == node_member.sub
    assert userinfo["email"] == node_member.email
    assert userinfo["moc_account_type"] == "temporary"


def test_refresh_rotates_the_refresh_token_and_refuses_the_spent_one(node_run, node_member):
    refreshed, first = node_run["finished"]["refreshed"], node_run["finished"]["claims"]

    assert refreshed["refresh_token_rotated"] is True
    assert refreshed["claims"]["sub"] == first["sub"] == node_member.sub
    assert refreshed["claims"]["sid"] == first["sid"]
    assert refreshed["claims"]["auth_time"] == first["auth_time"]
    assert refreshed["userinfo"]["sub"] == node_member.sub
    assert node_run["finished"]["spent_refresh_token"] == {"error": "invalid_grant", "status": 400}


def test_end_session_url_logs_out_of_the_idp(node_run, idp, node_client, node_browser):
    finished = node_run["finished"]
    end_session = urlsplit(finished["end_session_url"])
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == f"{idp.url}/logout"

    back = node_browser.get(finished["end_session_url"], allow_redirects=False)

    assert back.is_redirect, back.text[:500]
    location = urlsplit(back.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == POST_LOGOUT_REDIRECT_URI
    assert parse_qs(location.query)["state"] == [finished["logout_state"]]
    again = node_browser.get(start_step(idp, node_client)["authorization_url"])
    assert again.url.startswith(f"{idp.url}/login") and 'name="password"' in again.text
