"""End-to-end fixtures: one live IdP (with its stand-ins and a loopback SMTP server), the demo
RP twice (an ordinary client and a staff-only one), one headless Chromium for the session, and
per test fresh browser contexts (cookies isolated, Thai by default, phone-sized by default).

Needs Debian's ``chromium`` (/usr/bin/chromium, or E2E_CHROMIUM), the ``playwright`` Python
package (its driver only: no browser download) and ``npm ci --prefix tests/e2e/axe``. Without
them the tests skip here, saying why; in CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.pages import PHONE, Account, Recorder, Tab, new_email, new_password
from tests.e2e.people import People
from tests.support.live import live_demo_rp, live_idp

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_SCRIPT = HERE / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
# The machine's network is closed: without these, Chromium keeps calling home and floods
# refused connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks, with how to get it."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright (pip install playwright)")
    if not CHROMIUM.exists():
        problems.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE_SCRIPT.exists():
        problems.append(f"axe-core at {AXE_SCRIPT.relative_to(ROOT)} (npm ci --prefix tests/e2e/axe)")
    return problems


def refuse_or_skip(problems: list[str]) -> None:
    message = "end-to-end tests need " + "; ".join(problems)
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    print(message)
    pytest.skip(message)


# --- the servers ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def people():
    return People()


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server on loopback: (controller, outbox)."""
    from tests.support.smtp import start_smtp_server

    controller, outbox = start_smtp_server()
    yield controller, outbox
    controller.stop()


@pytest.fixture(scope="session")
def idp(tmp_path_factory, people, mail_server):
    """The IdP, live on loopback, with stand-in registers that know the pool's people."""
    from idp.mail import SmtpMailer

    workdir = tmp_path_factory.mktemp("e2e-idp")
    controller, _ = mail_server
    mailer = SmtpMailer(host="127.0.0.1", port=controller.port, security="none", timeout=5,
                        sender="MOC Account <no-reply@moc.test>")
    settings = {
        **people.write_registers(workdir / "registers"),
        "DOCUMENTS": {"FOLDER": str(workdir / "documents")},
        "REDIS_URL": "",  # this IdP's own counts; many signups come from 127.0.0.1 here
        "RATE_LIMITS": {"SIGNUP_PER_IP": "1000 per hour", "PASSWORD_RESET_PER_IP": "1000 per hour"},
    }
    with live_idp(workdir, settings=settings, adapters={"mailer": mailer}) as server:
        yield server


@pytest.fixture(scope="session")
def demo_rp(idp):
    with live_demo_rp(idp) as rp:
        yield rp


@pytest.fixture(scope="session")
def staff_rp(idp):
    """A second demo RP, registered as a staff-only client."""
    with live_demo_rp(idp, name="ระบบงานบุคลากร MOC", staff_only=True) as rp:
        yield rp


@pytest.fixture
def outbox(mail_server):
    _, box = mail_server
    return box


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    problems = missing_tools()
    if problems:
        refuse_or_skip(problems)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def recorder(request):
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return Recorder(folder, AXE_SCRIPT)


@pytest.fixture
def open_tab(request, browser, idp, recorder):
    """``open_tab(who, viewport=PHONE, locale="th-TH", javascript=True, bypass_csp=True)``: a
    new browser context (its own cookies) with one tab; the CSP is bypassed so that axe can be
    injected. At the end: a screenshot of each tab when the test
    failed, and every page a tab came to must have been checked."""
    tabs: list[Tab] = []
    contexts = []

    def open_(who: str = "member", *, viewport=PHONE, locale: str = "th-TH",
              javascript: bool = True, bypass_csp: bool = True) -> Tab:
        context = browser.new_context(viewport=viewport, locale=locale, bypass_csp=bypass_csp,
                                      java_script_enabled=javascript, accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = Tab(context.new_page(), recorder, who, idp_url=idp.url,
                  locale=locale.split("-")[0], javascript=javascript)
        tabs.append(tab)
        return tab

    yield open_
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    unchecked = [] if failed else [url for tab in tabs for url in tab.unchecked_pages()]
    for tab in tabs:
        if failed:
            tab.page.screenshot(path=recorder.path_for(tab.who, "at-failure"), full_page=True)
    for context in contexts:
        context.close()
    assert not unchecked, f"pages visited but never checked: {unchecked}"


@pytest.fixture
def tab(open_tab):
    """The member's tab: Thai, 390×844."""
    return open_tab("member")


# --- accounts -------------------------------------------------------------------------------

@pytest.fixture
def account():
    """A new email and password, for someone about to sign up."""
    return Account(new_email(), new_password())


@pytest.fixture
def existing_account(idp):
    """``existing_account(permanent=False, roles=())``: an account made through the IdP's
    services (for tests whose subject is not the signup)."""
    def make(*, permanent: bool = False, roles=()) -> Account:
        member = idp.create_member(permanent=permanent)
        if roles:
            set_roles(idp, member.sub, roles)
        return Account(member.email, member.password)
    return make


def set_roles(idp, sub: str, roles) -> None:
    from idp.accounts.service import find_by_sub
    from idp.db import db

    with idp.app.app_context():
        find_by_sub(sub).roles = list(roles)
        db.session.commit()


def stored_user(idp, email: str):
    """The account as stored (read through the IdP's own service), detached from the session."""
    from idp.accounts.service import find_by_email
    from idp.db import db

    with idp.app.app_context():
        user = find_by_email(email)
        db.session.expunge(user)
        return user
