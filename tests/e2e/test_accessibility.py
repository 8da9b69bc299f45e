"""WCAG 2.1 AA as people meet it: language, keyboard only, visible focus, phone width, forms
with errors, and no page that needs JavaScript. (axe-core runs on every page of every test
through ``Tab.seen``; these tests add what axe cannot judge alone.)"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode

import requests

from tests.e2e.pages import SEED, Account, Member, RelyingParty, new_email

KEYBOARD_STEPS = 60


# --- keyboard helpers ---------------------------------------------------------------------

def tab_to(tab, selector: str, *, text: str | None = None) -> None:
    """Press Tab until the focused element matches ``selector`` (and shows ``text``); every
    element the focus passes must show a visible outline."""
    for _ in range(KEYBOARD_STEPS):
        tab.page.keyboard.press("Tab")
        tab.assert_focus_visible()
        matches = tab.page.evaluate("(s) => document.activeElement.matches(s)", selector)
        if matches and (text is None or text in tab.focus_outline()["text"]):
            return
    raise AssertionError(f"Tab never reached {selector} {text or ''} on {tab.page.url}")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def press_and_follow(tab, key: str, name: str, **checks) -> None:
    with tab.page.expect_navigation():
        tab.page.keyboard.press(key)
    tab.seen(name, **checks)


def type_into(tab, selector: str, text: str) -> None:
    tab_to(tab, selector)
    tab.page.keyboard.type(text)


# --- the tests ----------------------------------------------------------------------------

def test_pages_say_their_language_and_switch_to_english(tab):
    member = Member(tab).open_landing()  # Tab.seen checks <html lang="th">
    assert tab.page.evaluate("document.fonts.check('16px Sarabun', 'ก')"), "the Thai web font"
    member.switch_language("en", "landing-english")
    assert tab.page.evaluate("document.documentElement.lang") == "en"
    assert "register here" in tab.text()
    tab.click("main a[href$='/signup']", "signup-english", path="/signup")
    assert tab.page.locator("main h1").inner_text() == "Register for MOC Account"
    member.switch_language("th", "signup-thai")
    assert tab.path == "/signup"
    assert tab.page.locator("main h1").inner_text() != "Register for MOC Account"


def test_signup_and_sign_in_with_the_keyboard_alone(tab, people):
    person = people.take("public")
    account = Account(new_email("keyboard"), "keyboard-" + secrets.token_hex(6))
    tab.goto("/", "landing")
    tab_to(tab, "main a", text=SEED["register_here"])
    press_and_follow(tab, "Enter", "signup", path="/signup")

    type_into(tab, "#given_name_th", person.given_name)  # title: the first one, นาย, stays
    type_into(tab, "#family_name_th", person.family_name)
    tab_to(tab, "#gender")
    tab.page.keyboard.press("ArrowDown")  # from ชาย to หญิง
    assert tab.page.eval_on_selector("#gender", "e => e.value") == "female"
    type_into(tab, "#birthdate", person.signup_birthdate)
    type_into(tab, "#email", account.email)
    tab_to(tab, "input[name=personnel_type]")
    tab.page.keyboard.press("Space")
    assert tab.page.eval_on_selector("input[name=personnel_type][value=public]", "e => e.checked")
    type_into(tab, "#password", account.password)
    type_into(tab, "#password_confirm", account.password)
    tab_to(tab, "#pdpa_consent")
    tab.page.keyboard.press("Space")
    tab_to(tab, "main form button[type=submit]")
    press_and_follow(tab, "Enter", "check-mail", path="/signup/sent")
    type_into(tab, "#password", account.password)  # the email is filled in
    press_and_follow(tab, "Enter", "membership", path="/signup/membership")

    tab_to(tab, "button.choice.temporary")
    press_and_follow(tab, "Enter", "account", path="/account")
    tab_to(tab, "main form[action$='/signout'] button")
    press_and_follow(tab, "Enter", "signed-out", path="/")

    tab_to(tab, "main a[href$='/login']")
    press_and_follow(tab, "Enter", "login", path="/login")
    type_into(tab, "#email", account.email)
    type_into(tab, "#password", account.password)
    press_and_follow(tab, "Enter", "signed-in", path="/account")  # Enter in the field submits


def test_skip_link_is_the_first_stop_and_leads_to_the_content(tab):
    tab.goto("/login", "login")
    tab.page.keyboard.press("Tab")
    focused = tab.focus_outline()
    assert focused["tag"] == "a"
    assert tab.page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    box = tab.page.evaluate("document.activeElement.getBoundingClientRect().left")
    assert box >= 0, "the skip link must come into view when focused"
    tab.page.keyboard.press("Enter")
    tab_to(tab, "#email")  # the next stop after the skip target is the form's first field


def test_forms_with_errors_are_announced_and_fit_a_phone(tab):
    tab.goto("/signup", "signup")
    tab.click("main form button[type=submit]", "signup-errors", path="/signup")  # Tab.seen: axe, width
    summary = tab.page.locator(".error-summary[role=alert]")
    assert summary.count() == 1
    first_link = summary.locator("a").first.get_attribute("href")
    assert tab.page.locator(first_link).count() == 1, f"{first_link} names no field"
    invalid = tab.page.locator("[aria-invalid=true]")
    assert invalid.count() >= 5
    described = invalid.first.get_attribute("aria-describedby")
    assert described and tab.page.locator(f"#{described.split()[-1]}").inner_text()

    tab.goto("/login", "login")
    tab.click("main form button[type=submit]", "login-errors", path="/login")
    assert tab.page.locator(".error-summary[role=alert]").count() == 1


def test_sign_in_works_without_javascript(open_tab, idp, demo_rp, existing_account):
    tab = open_tab("no-js", javascript=False)
    account = existing_account()
    rp = RelyingParty(tab, demo_rp.url).open()
    rp.press_sign_in("login")
    Member(tab).sign_in(account, "consent").allow("rp-signed-in")
    assert rp.claims()["email"] == account.email


def test_form_post_response_has_a_continue_button_without_javascript(open_tab, idp, existing_account):
    """OAuth 2.0 Form Post Response Mode: the page auto-submits with JavaScript; without it, the
    person presses Continue (the button is the form's own)."""
    callback = "http://127.0.0.1:9/form-post-callback"  # nothing listens: the browser's route answers
    client = idp.create_client("No-JS service", callback)
    received = {}
    tab = open_tab("no-js", javascript=False)

    def catch(route):
        received.update({k: v[0] for k, v in parse_qs(route.request.post_data or "").items()})
        route.fulfill(status=200, content_type="text/html",
                      body="<!doctype html><html lang='en'><title>received</title><main>ok</main></html>")

    tab.page.context.route(callback, catch)
    verifier, challenge = pkce_pair()
    query = urlencode({"client_id": client.client_id, "redirect_uri": callback, "response_type": "code",
                       "scope": "openid email", "state": "s-" + secrets.token_hex(4),
                       "nonce": "n-" + secrets.token_hex(4), "response_mode": "form_post",
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    tab.goto(f"/authorize?{query}", "login", path="/login")
    Member(tab).sign_in(existing_account(), "consent").allow("form-post-page")
    assert tab.page.locator("#form-post-response").count() == 1, "the form_post page, not sent yet"
    tab.click("#form-post-response button[type=submit]", "received")
    assert received.get("code") and received.get("state", "").startswith("s-")
    assert received["iss"] == idp.url

    answer = requests.post(f"{idp.url}/token", timeout=10, auth=(client.client_id, client.client_secret),
                           data={"grant_type": "authorization_code", "code": received["code"],
                                 "redirect_uri": callback, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id_token"]


def test_pages_need_no_inline_script_or_style_under_their_csp(open_tab):
    """The other tests inject axe with the CSP bypassed; here the CSP holds, and no page breaks it."""
    tab = open_tab("csp", bypass_csp=False)
    refused = []
    tab.page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    for path, name in (("/", "landing"), ("/signup", "signup"), ("/login", "login"),
                       ("/password/forgot", "forgot-password")):
        tab.goto(path, name, axe=False)
    assert not refused, refused


def test_new_password_fields_are_named_for_password_managers(tab):
    tab.goto("/signup", "signup")
    assert tab.page.get_attribute("#password", "autocomplete") == "new-password"
    assert tab.page.get_attribute("#email", "autocomplete") == "email"
    tab.goto("/login", "login")
    assert tab.page.get_attribute("#email", "autocomplete") == "username"
    assert tab.page.get_attribute("#password", "autocomplete") == "current-password"
