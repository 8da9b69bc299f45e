"""The pending authorization request is kept server-side: the cookie carries only its id, so
a large ``state`` cannot make the browser drop the cookie; ``state``, ``nonce`` and the whole
request are bounded; a pending request belongs to one browser and expires."""

from __future__ import annotations

import secrets
import string
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import MultiDict

from tests.integration.test_signup import sign_up
from tests.support.flows import (
    ISSUER,
    PASSWORD,
    Flow,
    csrf_token,
    query_of,
    sign_in_after_signup,
)

BROWSER_COOKIE_LIMIT = 4096  # RFC 6265 6.1: at least 4096 bytes per cookie; browsers stop there


def random_text(length: int) -> str:
    """Incompressible, URL-safe text: what a relying party packing data into ``state`` sends."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(length))


class CookieWatch:
    """A test client that remembers every Set-Cookie header it was sent."""

    def __init__(self, web):
        self.web, self.set_cookies = web, []

    def _seen(self, response):
        self.set_cookies += response.headers.getlist("Set-Cookie")
        return response

    def get(self, *args, **kwargs):
        return self._seen(self.web.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return self._seen(self.web.post(*args, **kwargs))

    def largest_cookie(self) -> int:
        return max((len(header.encode()) for header in self.set_cookies), default=0)


def rp_answer(response) -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].startswith("https://rp.example/callback")
    return query_of(response.headers["Location"])


# --- bounds -------------------------------------------------------------------------------

def test_a_3_kb_state_is_refused_and_not_sent_back(flow):
    response = flow.authorize(state=random_text(3 * 1024))
    answer = rp_answer(response)
    assert answer["error"] == "invalid_request" and "state" in answer["error_description"]
    assert "state" not in answer and answer["iss"] == ISSUER
    assert len(response.headers["Location"]) < 1024


def test_an_800_kb_state_makes_no_giant_header(flow):
    response = flow.authorize(state=random_text(800 * 1024))
    assert rp_answer(response)["error"] == "invalid_request"
    assert sum(len(name) + len(value) for name, value in response.headers.items()) < 4096


def test_a_request_longer_than_8192_characters_in_all_is_refused(flow):
    answer = rp_answer(flow.authorize(state="keep-me", login_hint=random_text(2000),
                                      acr_values=random_text(7000)))
    assert answer["error"] == "invalid_request" and "longer" in answer["error_description"]
    assert answer["state"] == "keep-me"


def test_a_nonce_over_2048_characters_is_refused_with_the_state(flow):
    answer = rp_answer(flow.authorize(state="keep-me", nonce=random_text(2049)))
    assert answer["error"] == "invalid_request" and "nonce" in answer["error_description"]
    assert answer["state"] == "keep-me"


def test_a_2048_character_nonce_reaches_the_id_token(app, flow):
    from tests.support.flows import decode_jwt

    nonce = random_text(2048)
    tokens = flow.tokens(flow.secret, nonce=nonce)
    assert decode_jwt(app, tokens["id_token"])["nonce"] == nonce


# --- the cookie stays small ---------------------------------------------------------------

def test_a_1_5_kb_state_round_trips_through_sign_in_with_small_cookies(web, make_user, make_client):
    make_user()
    client_id, _ = make_client()
    watch = CookieWatch(web)
    the_flow = Flow(watch, client_id)
    state = random_text(1536)
    answer = rp_answer(the_flow.follow(the_flow.authorize(state=state)))
    assert answer["state"] == state and answer["code"]
    assert 0 < watch.largest_cookie() < 1024


def test_three_pending_requests_with_large_states_keep_the_cookie_small(web, make_user, make_client):
    """Three tabs, each sent to the sign-in page with a 1.5 KB state: each resumes."""
    make_user()
    client_id, _ = make_client()
    watch = CookieWatch(web)
    the_flow = Flow(watch, client_id)
    states = [random_text(1536) for _ in range(3)]
    logins = [the_flow.authorize(state=state).headers["Location"] for state in states]
    assert watch.largest_cookie() < BROWSER_COOKIE_LIMIT // 4
    the_flow.sign_in(interaction=query_of(logins[0])["interaction"])
    for login, state in zip(logins, states, strict=True):
        resumed = watch.get(f"/authorize/resume?interaction={query_of(login)['interaction']}")
        assert rp_answer(the_flow.follow(resumed))["state"] == state
    assert watch.largest_cookie() < BROWSER_COOKIE_LIMIT // 4


def test_the_flow_resumes_after_signing_up_with_a_large_state(web, make_client):
    client_id, _ = make_client(trusted=True)
    watch = CookieWatch(web)
    the_flow = Flow(watch, client_id)
    state = random_text(1536)
    login = the_flow.authorize(state=state).headers["Location"]
    watch.get(f"/signup?interaction={query_of(login)['interaction']}")
    sign_up(watch)
    sign_in_after_signup(watch)  # the password just chosen, on the "check your mail" page
    page = watch.get("/signup/membership").get_data(as_text=True)
    chosen = watch.post("/signup/membership", data={"csrf_token": csrf_token(page), "choice": "temporary"})
    answer = rp_answer(watch.get(chosen.headers["Location"]))
    assert answer["state"] == state and answer["code"]
    assert watch.largest_cookie() < BROWSER_COOKIE_LIMIT // 4


def test_the_flow_resumes_after_the_staff_check_with_a_large_state(app, make_user, make_client):
    from tests.integration.test_staff import SOMCHAI, member, staff_check

    client_id, _ = make_client(staff_only=True, trusted=True)
    watch = CookieWatch(member(app, make_user, SOMCHAI, "s@example.com"))
    state = random_text(1536)
    refused = Flow(watch, client_id).authorize(state=state)
    assert refused.status_code == 403
    link = "/verify?interaction="
    interaction = refused.get_data(as_text=True).split(link)[1].split('"')[0]
    watch.get(f"/verify?interaction={interaction}")
    checked = staff_check(watch, SOMCHAI)
    answer = rp_answer(watch.get(checked.headers["Location"]))
    assert answer["state"] == state and answer["code"]
    assert watch.largest_cookie() < BROWSER_COOKIE_LIMIT // 4


# --- repeated parameters (RFC 6749 3.1) ---------------------------------------------------

@pytest.mark.parametrize("name", ["state", "response_mode", "nonce", "code_challenge"])
def test_a_repeated_parameter_at_authorize_get_is_refused(flow, name):
    """RFC 6749 3.1: "Request and response parameters MUST NOT be included more than once"."""
    params = flow.params(response_mode="query")
    url = "/authorize?" + urlencode(params) + "&" + urlencode({name: params[name]})
    answer = rp_answer(flow.web.get(url))
    assert answer["error"] == "invalid_request" and name in answer["error_description"]


def test_a_repeated_state_at_authorize_post_is_refused(flow):
    data = MultiDict(flow.params(state="one"))
    data.add("state", "two")
    answer = rp_answer(flow.web.post("/authorize", data=data))
    assert answer["error"] == "invalid_request" and "state" in answer["error_description"]


@pytest.mark.parametrize("challenge", ["A" * 42, "A" * 44, "A" * 128, "A" * 42 + "~", "A" * 42 + "."])
def test_an_s256_code_challenge_must_be_43_base64url_characters(flow, challenge):
    """RFC 7636 4.2: S256 challenge = BASE64URL-ENCODE(SHA256(...)): 43 characters, no padding."""
    answer = rp_answer(flow.authorize(code_challenge=challenge, code_challenge_method="S256"))
    assert answer["error"] == "invalid_request"


# --- one browser, a short while -----------------------------------------------------------

def test_a_pending_request_cannot_be_resumed_from_another_browser(app, flow):
    login = flow.authorize().headers["Location"]
    interaction = query_of(login)["interaction"]
    other = app.test_client()
    Flow(other, flow.client_id).sign_in()
    response = other.get(f"/authorize/resume?interaction={interaction}")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "interaction_expired" in response.get_data(as_text=True)


def test_a_pending_request_expires_and_expired_ones_are_removed(app, flow, clock):
    from idp.db import db
    from idp.oidc.models import PendingAuthorization

    first = query_of(flow.authorize().headers["Location"])["interaction"]
    clock.advance(seconds=app.config["OIDC"]["PENDING_AUTHORIZATION_SECONDS"] + 1)
    flow.sign_in(interaction=first)
    response = flow.web.get(f"/authorize/resume?interaction={first}")
    assert "interaction_expired" in response.get_data(as_text=True)
    flow.authorize()  # a new pending request clears out the expired ones
    with app.app_context():
        ids = db.session.execute(db.select(PendingAuthorization.id)).scalars().all()
    assert first not in ids and len(ids) == 1


def test_expired_requests_are_purged_at_most_once_a_minute_per_process(app, flow, clock):
    from tests.support.queries import counting_statements

    def purges_during_an_authorization() -> int:
        with counting_statements(app) as statements:
            assert flow.authorize().status_code == 302
        return sum("DELETE FROM oidc_pending_authorizations" in s and "expires_at" in s
                   for s in statements)

    flow.authorize()  # the process's first new request purges
    assert purges_during_an_authorization() == 0
    clock.advance(seconds=59)
    assert purges_during_an_authorization() == 0
    clock.advance(seconds=2)
    assert purges_during_an_authorization() == 1


def test_an_answered_request_is_removed(app, flow):
    from idp.db import db
    from idp.oidc.models import PendingAuthorization

    flow.code()
    with app.app_context():
        assert db.session.execute(db.select(PendingAuthorization)).first() is None


# --- sign-in continues the request --------------------------------------------------------

def _login_for(flow, **params):
    login = flow.authorize(**params)
    assert login.status_code == 302 and "/login" in login.headers["Location"]
    return flow.sign_in(interaction=query_of(login.headers["Location"])["interaction"])


def test_signing_in_answers_with_the_code_without_a_hop_through_resume(web, make_user, make_client):
    make_user()
    client_id, secret = make_client(trusted=True)
    flow = Flow(web, client_id)
    answer = rp_answer(_login_for(flow, state="s-1"))
    assert answer["state"] == "s-1" and answer["iss"] == ISSUER
    assert "access_token" in flow.exchange(answer["code"], secret).json
    assert flow.web.get("/account").status_code == 200  # the SSO session came with the answer


def test_signing_in_goes_on_to_consent_when_the_client_needs_it(flow):
    response = _login_for(flow)
    assert response.status_code == 302 and response.headers["Location"].startswith("/consent?")
    page = flow.web.get(response.headers["Location"])
    allowed = flow.web.post("/consent", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "decision": "allow",
        "interaction": query_of(response.headers["Location"])["interaction"]})
    assert rp_answer(flow.web.get(allowed.headers["Location"]))["code"]


def test_a_request_that_expired_during_sign_in_goes_on_to_the_account_page(app, flow):
    login = flow.authorize()
    interaction = query_of(login.headers["Location"])["interaction"]
    page = flow.web.get(f"/login?interaction={interaction}")
    from idp.db import db
    from idp.oidc.interactions import DISCARD

    with app.app_context():  # gone meanwhile (expired and purged, or answered in another tab)
        db.session.execute(DISCARD, {"id": interaction})
        db.session.commit()
    response = flow.web.post("/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": "somchai@example.com",
        "password": PASSWORD, "interaction": interaction})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")


def test_signing_in_with_another_browsers_request_gives_no_code(web, make_user, make_client):
    """The login POST continues only a request this browser started: another browser's
    interaction id (sent in the form) is ignored, and the sign-in ends on the account page."""
    from flask.testing import FlaskClient

    make_user()
    client_id, _secret = make_client(trusted=True)
    theirs = Flow(FlaskClient(web.application), client_id).authorize()
    interaction = query_of(theirs.headers["Location"])["interaction"]
    page = web.get("/login")
    response = web.post("/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": "somchai@example.com",
        "password": PASSWORD, "interaction": interaction})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
