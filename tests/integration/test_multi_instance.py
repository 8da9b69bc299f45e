"""Two production servers (`moc-idp serve`) on one PostgreSQL database and one Redis, behind the
documented nginx with TLS: whichever instance a request reaches, sessions, codes, refresh
tokens, rate-limit counts, logouts, signing keys and documents are one system's."""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import pyotp
import pytest
import requests
from admin_support import page_secret
from multi_support import (
    CALLBACK,
    EXAMPLE,
    HOST,
    Cluster,
    LogoutReceiver,
    cluster_config,
    jwt_header,
    pinned_site,
    public_site,
    redeem,
)

from tests.support.flows import csrf_token, query_of
from tests.support.instances import (
    LOOPBACK,
    Instance,
    free_port,
    moc_idp,
    start_nginx,
    wait_for_https,
    write_config,
)
from tests.support.live import SignInFailed, scratch_database
from tests.support.slapd import write_certificates

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = [
    pytest.mark.multi_instance,
    pytest.mark.skipif(not os.environ.get("IDP_TEST_DATABASE_URL"), reason=(
        "two servers share one PostgreSQL database (IDP_TEST_DATABASE_URL); a SQLite file is "
        "one machine's: the PostgreSQL pass of scripts/test runs these")),
]


@contextmanager
def resolving(host: str):
    """``host`` resolves to 127.0.0.1 for this process's HTTP clients (no /etc/hosts needed)."""
    import urllib3.util.connection as connection

    original = connection.create_connection

    def create(address, *args, **kwargs):
        name, port = address
        return original((LOOPBACK if name == host else name, port), *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "create_connection", create)
        yield


def _stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


def _dispose(app) -> None:
    from idp.audit_sealer import stop_all_sealers
    from idp.db import db

    stop_all_sealers()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from idp import create_app

    folder = tmp_path_factory.mktemp("multi")
    with ExitStack() as stack:
        stack.enter_context(resolving(HOST))
        database_url = stack.enter_context(scratch_database(folder))
        ports = {name: free_port() for name in ("public", "via A", "via B", "A", "B")}
        certificates = folder / "tls"
        certificates.mkdir()
        write_certificates(certificates, (HOST,))
        config = cluster_config(f"https://{HOST}:{ports['public']}", database_url, REDIS_URL, folder)
        config_file = write_config(folder / "config.toml", config)
        moc_idp(config_file, "db", "upgrade")
        moc_idp(config_file, "keys", "rotate", "--now")
        instances = {name: Instance(name, ports[name], config_file, folder / f"{name}.log")
                     for name in "AB"}
        for instance in instances.values():
            stack.callback(instance.stop)
            instance.start()
        site = pinned_site(public_site(EXAMPLE.read_text(), ports, certificates), ports)
        stack.callback(_stop, start_nginx(folder, site, log_format="$server_port $upstream_addr"))
        wait_for_https(f"{config['ISSUER']}/healthz", certificates / "ca.pem")
        app = create_app(config)
        stack.callback(_dispose, app)
        receiver = LogoutReceiver()
        stack.callback(receiver.stop)
        yield Cluster(app, instances, ports, certificates / "ca.pem", folder, config_file, receiver)


# --- the servers and nginx in front -------------------------------------------------------------

def test_behind_nginx_the_issuer_is_https_cookies_are_secure_and_both_instances_serve(cluster):
    from test_nginx import FromAddress

    from idp.accounts.service import find_by_sub
    from idp.audit import events

    discovery = requests.get(f"{cluster.issuer}/.well-known/openid-configuration",
                             verify=str(cluster.ca_file), timeout=10).json()
    assert discovery["issuer"] == cluster.issuer
    endpoints = [url for name, url in discovery.items() if name.endswith("_endpoint") or name == "jwks_uri"]
    assert len(endpoints) >= 5 and all(url.startswith(cluster.issuer + "/") for url in endpoints)
    member = cluster.create_member()
    browser = cluster.browser(member)
    browser.mount("https://", FromAddress("127.0.0.7"))
    browser.headers["X-Forwarded-For"] = "6.6.6.6"  # a client's claim: not its address
    assert browser.sign_in(f"{cluster.issuer}/account").url == f"{cluster.issuer}/account"
    assert len(browser.cookies) >= 2 and all(cookie.secure for cookie in browser.cookies)
    with cluster.app.app_context():
        user_id = find_by_sub(member.sub).id
        logins = [e.ip for e in events("account:login:success") if e.subject_id == user_id]
    assert logins == ["127.0.0.7"]
    assert _upstreams_of(cluster, cluster.ports["public"]) == {
        f"{LOOPBACK}:{cluster.ports[name]}" for name in "AB"}


def _upstreams_of(cluster, port: int) -> set[str]:
    """The instances nginx sent the requests of its listener on ``port`` to (its access log)."""
    lines = (cluster.folder / "access.log").read_text().splitlines()
    return {line.split()[1] for line in lines if line.split()[0] == str(port)}


# --- sessions, codes, refresh tokens ------------------------------------------------------------

def test_signed_in_at_a_the_person_is_signed_in_at_b_without_a_sign_in_page(cluster):
    client = cluster.create_client("SSO RP")
    browser = cluster.browser(cluster.create_member(), via="A")
    assert browser.sign_in(f"{cluster.url('A')}/account").url == f"{cluster.url('A')}/account"
    response, _ = browser.at("B").authorize(client[0])
    assert response.status_code == 302 and response.headers["Location"].startswith(CALLBACK + "?")
    assert "code" in query_of(response.headers["Location"])


def test_a_code_issued_by_a_is_redeemed_at_b_once(cluster):
    client = cluster.create_client("Code RP")
    browser = cluster.browser(cluster.create_member(), via="A")
    code, verifier = browser.code(client[0])
    redeemed = redeem(cluster, "B", client, code, verifier)
    assert redeemed.status_code == 200 and redeemed.json()["id_token"]
    again = redeem(cluster, "A", client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def issue_refresh_token(cluster: Cluster, client_id: str) -> str:
    """A fresh token family for a new member: its refresh token."""
    from idp.accounts.service import find_by_sub
    from idp.db import db
    from idp.oidc import tokens
    from idp.oidc.clients import find_client

    member = cluster.create_member()
    with cluster.app.app_context():
        grant = tokens.Grant(client=find_client(client_id), user=find_by_sub(member.sub),
                             scope="openid offline_access", sid=None, auth_time=None)
        response, _row = tokens.issue(grant, include_refresh_token=True)
        db.session.commit()
    return response["refresh_token"]


@pytest.mark.parametrize("round_", range(3))
def test_a_refresh_token_raced_across_both_instances_has_exactly_one_winner(cluster, round_):
    client = cluster.create_client("Race RP", scope="openid offline_access")
    refresh_token = issue_refresh_token(cluster, client[0])
    racers = ["A", "B"] * 4
    barrier = threading.Barrier(len(racers))

    def refresh(via):
        barrier.wait()
        response = cluster.token(via, client, grant_type="refresh_token", refresh_token=refresh_token)
        return via, response.status_code, response.json().get("error")

    with ThreadPoolExecutor(len(racers)) as pool:
        answers = list(pool.map(refresh, racers))
    assert [status for _, status, _ in answers].count(200) == 1, answers
    assert sorted(error or "" for _, _, error in answers) == [""] + ["invalid_grant"] * 7, answers


# --- limits and logout ----------------------------------------------------------------------------

def test_failed_sign_ins_at_a_and_at_b_count_against_one_limit(cluster):
    """LOGIN_PER_ACCOUNT_IP is 3 here: two failures at A and one at B spend it, so the right
    password at A is then refused (429), as on one instance."""
    member = cluster.create_member()

    def sign_in(via, password):
        browser = cluster.browser(member, via=via)
        browser.member = type(member)(member.sub, member.email, password)
        try:
            return browser.sign_in(f"{cluster.url(via)}/account").status_code
        except SignInFailed as refused:
            return int(re.search(r"HTTP (\d+)", str(refused)).group(1))

    assert [sign_in("A", "wrong"), sign_in("A", "wrong"), sign_in("B", "wrong")] == [401] * 3
    assert sign_in("A", member.password) == 429
    assert sign_in("B", member.password) == 429


def test_sign_out_at_b_ends_the_session_at_a_with_one_back_channel_logout(cluster):
    client = cluster.create_client("Logout RP", backchannel_logout_uri=cluster.receiver.url)
    before = len(cluster.receiver.tokens)
    browser = cluster.browser(cluster.create_member(), via="A")
    code, verifier = browser.code(client[0])
    id_token = redeem(cluster, "A", client, code, verifier).json()["id_token"]
    browser.at("B").get(f"{cluster.url('B')}/logout", params={"id_token_hint": id_token})
    response, _ = browser.at("A").authorize(client[0], prompt="none")
    assert query_of(response.headers["Location"]).get("error") == "login_required"
    assert _settled(lambda: len(cluster.receiver.tokens) - before) == 1


def _settled(count, rounds: int = 50) -> int:
    """``count()`` once it has been non-zero and unchanged for a second (bounded)."""
    last, still = count(), 0
    for _ in range(rounds):
        time.sleep(0.1)
        now = count()
        still = still + 1 if now == last and now else 0
        if still >= 10:
            break
        last = now
    return last


# --- keys and documents --------------------------------------------------------------------------

def test_a_key_rotated_from_the_command_line_signs_at_both_instances(cluster):
    """The key is published at once, signs after KEY_ACTIVATION_DELAY_SECONDS (2 here), and
    each process sees it within KEYS_RECHECK_SECONDS (1 here): poll, bounded, not timed."""
    output = moc_idp(cluster.config_file, "keys", "rotate", "--alg", "RS256").stdout
    new_kid = re.search(r"published (\S+) \(RS256\)", output).group(1)
    client = cluster.create_client("Keys RP")
    browser = cluster.browser(cluster.create_member(), via="A")
    browser.sign_in(f"{cluster.url('A')}/account")
    for via in ("B", "A"):
        assert _id_token_kid_becomes(cluster, browser.at(via), client, via, new_kid)


def _id_token_kid_becomes(cluster, browser, client, via, kid, rounds: int = 60) -> bool:
    for _ in range(rounds):
        code, verifier = browser.code(client[0])
        if jwt_header(redeem(cluster, via, client, code, verifier).json()["id_token"])["kid"] == kid:
            return True
        time.sleep(0.25)
    return False


def test_a_document_uploaded_through_a_is_approved_through_b(cluster):
    from idp.accounts.service import find_by_email
    from idp.db import db
    from idp.verification.applications import StaffApplication

    member = cluster.create_member(first="ประยูร", last="มั่นคง")
    applicant = cluster.browser(member, via="A")
    applicant.sign_in(f"{cluster.url('A')}/account")
    checked = applicant.submit(applicant.get(f"{cluster.url('A')}/verify/staff"), "/verify/staff",
                               allow_redirects=False, citizen_id="5209900456784",
                               first_name_th="ประยูร", last_name_th="มั่นคง", birthdate="00/00/2490")
    assert checked.headers["Location"].endswith("/verify/staff/document"), checked.status_code
    uploaded = _upload(applicant)
    assert uploaded.status_code == 302, uploaded.text
    with cluster.app.app_context():
        user = find_by_email(member.email)
        [application_id] = [a.id for a in StaffApplication.query.filter_by(user_id=user.id)]
    reviewer = _reviewer_at(cluster, "B")
    page = reviewer.get(f"{cluster.url('B')}/admin/review/{application_id}")
    assert page.status_code == 200 and "ประยูร" in page.text
    decided = reviewer.submit(page, f"/admin/review/{application_id}/approve", allow_redirects=False)
    assert decided.status_code == 302, decided.text
    with cluster.app.app_context():
        assert find_by_email(member.email).staff_status == "verified"
        assert db.session.get(StaffApplication, application_id).status == "approved"


def _upload(applicant):
    from test_staff import png_bytes

    url = f"{applicant.issuer}/verify/staff/document"
    token = csrf_token(applicant.get(url).text)
    return applicant.post(url, allow_redirects=False, files={
        "document": ("form.png", io.BytesIO(png_bytes()), "image/png")}, data={
        "csrf_token": token, "department": "กรมการค้าต่างประเทศ", "position": "เจ้าพนักงานพาณิชย์",
        "declaration": "y"})


def _reviewer_at(cluster, via: str):
    """A reviewer signed in at ``via`` who has enrolled an authenticator app there."""
    from admin_support import set_roles

    reviewer = cluster.create_member(fields={"permanent": True})
    set_roles(cluster.app, reviewer.sub, ("reviewer",))
    browser = cluster.browser(reviewer, via=via)
    browser.sign_in(f"{cluster.url(via)}/account")
    page = browser.get(f"{cluster.url(via)}/admin/mfa/enrol")
    enrolled = browser.submit(page, "/admin/mfa/enrol", code=pyotp.TOTP(page_secret(page.text)).now())
    assert enrolled.status_code == 200, enrolled.text
    return browser
