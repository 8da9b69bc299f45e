"""What a person does on each page (flaskr's ``AuthActions``), and the checks every page gets.

A ``Tab`` is one person's browser tab in one test. Every page it comes to goes through
``Tab.seen``: a screenshot into the test's folder, axe-core (WCAG 2.1 A/AA rules; a serious or
critical violation fails the test), ``<html lang>``, and at phone width no horizontal scroll.
``Member``, ``RelyingParty`` and ``Console`` hide the clicks of the flows on top of it.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests.e2e.people import Person

AXE_RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
# Known on the demo RP (clients/demo_rp, an example, not the product); reported to its owner.
# Remove an entry once it is fixed: any other violation on the RP fails like one on the IdP.
KNOWN_RP_VIOLATIONS: dict[str, str] = {}  # none left; add one here only with its file and fix
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# The Thai labels the seed guide gives (seed/moc-account-guide.en.md); the flows press them.
SEED = {
    "register_here": "สำหรับผู้ใช้งานที่ไม่เคยสมัครมาก่อน ลงทะเบียนคลิกที่นี่",
    "moc_personnel": "บุคลากรภายในกระทรวงพาณิชย์",
    "confirm_registration": "ยืนยันการลงทะเบียนสมาชิกและเข้าใช้งานทันที",
    "permanent": "สมัครเป็นสมาชิกถาวร ไม่มีวันหมดอายุ คลิกที่นี่เพื่อยืนยันข้อมูลกับกรมการปกครอง",
    "temporary": "สมัครเข้าร่วมกิจกรรม/ใช้งานระบบต่าง ๆ โดยเป็นสมาชิกแบบชั่วคราว คลิกที่นี่",
    "public_method": "ยืนยันตัวตนสำหรับประชาชนทั่วไป",
    "staff_method": "ยืนยันตัวตนสำหรับบุคลากรกระทรวงพาณิชย์",
    "submit_staff_identity": "ส่งข้อมูลยืนยันตัวตนบุคลากรกระทรวงพาณิชย์",
    "cancel": "ยกเลิกและกลับไปเลือกวิธียืนยันใหม่",
    "submit_staff_document": "ส่งข้อมูลยืนยันบัญชีบุคลากรกระทรวงพาณิชย์",
    "declaration": "ความรับผิดชอบในการแจ้งข้อมูลโดยผู้แจ้งข้อมูลจะต้องเป็นผู้รับผิดชอบตามกฎหมายในทุกกรณีแต่เพียงผู้เดียว",
}

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    url: v.helpUrl, targets: v.nodes.map(n => n.target.join(" "))}));
}"""


THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
               "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
BANGKOK = ZoneInfo("Asia/Bangkok")


def thai_date(day: date) -> str:
    """A date as the Thai pages write it: day, abbreviated month, Buddhist-era year."""
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + 543}"


def today_in_bangkok() -> date:
    return datetime.now(BANGKOK).date()


def new_password() -> str:
    return "ทดสอบ-" + secrets.token_urlsafe(9)


def new_email(prefix: str = "member") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


# --- the record of one test ---------------------------------------------------------------

@dataclass
class Recorder:
    """Screenshots of one test (``NN-who-name.png``) and the pages its tabs checked."""

    folder: Path
    axe_script: Path
    count: int = 0
    checked: set[str] = field(default_factory=set)

    def path_for(self, who: str, name: str) -> Path:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{self.count:02d}-{who}-{name}.png"


class Tab:
    """One person's tab: navigations and clicks, each page checked once it has loaded."""

    def __init__(self, page, recorder: Recorder, who: str, *, idp_url: str, locale: str = "th",
                 javascript: bool = True, checking: bool = True):
        self.page, self.recorder, self.who = page, recorder, who
        self.idp_url, self.locale, self.javascript = idp_url.rstrip("/"), locale, javascript
        self.checking = checking  # False: only drive the pages (scripts/screenshots)
        self.navigated: list[str] = []
        self.broken: list[str] = []
        page.on("framenavigated", self._on_navigation)
        page.on("response", self._on_response)

    # -- listeners --
    def _on_navigation(self, frame) -> None:
        if frame == self.page.main_frame:
            self.navigated.append(frame.url)

    def _on_response(self, response) -> None:
        kind, status = response.request.resource_type, response.status
        if urlsplit(response.url).path == "/favicon.ico":
            return  # Chromium asks for one by itself; neither server has one
        if (kind == "document" and status >= 500) or (kind != "document" and status >= 400):
            self.broken.append(f"HTTP {status} for {kind} {response.url}")

    # -- moving about --
    def goto(self, url: str, name: str, **expected) -> Tab:
        self.page.goto(url if "://" in url else self.idp_url + url)
        return self.seen(name, **expected)

    def click(self, target, name: str, **expected) -> Tab:
        """Click ``target`` (a selector or a locator) and check the page it leads to."""
        locator = self.page.locator(target) if isinstance(target, str) else target
        locator.click()
        return self.seen(name, **expected)

    def press_button(self, label: str, name: str, **expected) -> Tab:
        return self.click(self.page.get_by_role("button", name=label, exact=True), name, **expected)

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def on_idp(self) -> bool:
        return self.page.url.startswith(self.idp_url + "/")

    def text(self, selector: str = "main") -> str:
        return self.page.locator(selector).first.inner_text()

    # -- the checks of every page --
    def seen(self, name: str, *, path: str | None = None, axe: bool = True) -> Tab:
        """The page has loaded: photograph it, then check it (axe, lang, width)."""
        self.page.wait_for_load_state("load")
        if path is not None:
            assert self.path == path, f"expected {path}, at {self.page.url}"
        assert not self.broken, f"on {self.page.url}: " + "; ".join(self.broken)
        if not self.checking:
            return self
        self.page.screenshot(path=self.recorder.path_for(self.who, name), full_page=True)
        if self.on_idp():
            self.check_lang()
            self.check_width()
        if axe and self.javascript:
            self.check_axe()
        self.recorder.checked.add(self.page.url)
        return self

    def check_axe(self) -> None:
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(self.recorder.axe_script))
        violations = self.page.evaluate(AXE_RUN, AXE_RULE_TAGS)
        known = {} if self.on_idp() else KNOWN_RP_VIOLATIONS
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS and v["id"] not in known]
        for v in violations:
            print(f"axe {v['impact']}: {v['id']} on {self.page.url}: {v['help']} {v['targets']}")
        assert not failing, f"accessibility problems on {self.page.url}:\n" + "\n".join(
            f"  [{v['impact']}] {v['id']}: {v['help']} ({v['url']})\n    at " + ", ".join(v["targets"])
            for v in failing)

    def check_lang(self) -> None:
        lang = self.page.evaluate("document.documentElement.lang")
        assert lang == self.locale, f"<html lang={lang!r}> on {self.page.url}, expected {self.locale!r}"

    def check_width(self) -> None:
        width = self.page.viewport_size["width"]
        if width <= PHONE["width"]:
            scroll = self.page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (f"{self.page.url} scrolls sideways at {width} px wide "
                                     f"(scrollWidth {scroll})")

    def unchecked_pages(self) -> list[str]:
        """Pages this tab came to that no check saw (each navigation should end in ``seen``)."""
        checked = {url.split("#")[0] for url in self.recorder.checked}
        return [url for url in dict.fromkeys(u.split("#")[0] for u in self.navigated)
                if url not in checked and url != "about:blank"]

    def focus_outline(self) -> dict:
        """The focused element, its computed outline and box-shadow, and the background the
        indicator is drawn on (the nearest ancestor's background colour)."""
        return self.page.evaluate(FOCUS_STYLE)

    def assert_focus_visible(self) -> None:
        """WCAG 2.4.7 (focus visible) with 1.4.11's 3:1 for the indicator against its background."""
        focused = self.focus_outline()
        where = f"<{focused['tag']} id={focused['id']!r}> {focused['text'][:40]!r} at {self.page.url}"
        assert focused["style"] != "none" and focused["width"] >= 2, f"no focus outline on {where}"
        background = rgb(focused["background"])
        rings = [rgb(focused["color"])] + [rgb(c) for c in re.findall(r"rgba?\([^)]*\)", focused["shadow"])]
        best = max(contrast(ring, background) for ring in rings)
        assert best >= 3, f"focus indicator contrast {best:.1f}:1 (< 3:1) on {where}"


FOCUS_STYLE = r"""() => {
  const e = document.activeElement, s = getComputedStyle(e);
  let background = "rgb(255, 255, 255)";
  for (let n = e.parentElement; n; n = n.parentElement) {
    const b = getComputedStyle(n).backgroundColor;
    if (b && b !== "transparent" && !/^rgba\(.*,\s*0\)$/.test(b)) { background = b; break; }
  }
  return {tag: e.tagName.toLowerCase(), id: e.id, text: (e.innerText || e.value || "").trim(),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, color: s.outlineColor,
          shadow: s.boxShadow, background};
}"""


def rgb(css: str) -> tuple[float, float, float]:
    """(r, g, b) of a computed CSS colour, ``rgb(…)`` or ``rgba(…)``."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)[:3]]
    return tuple(numbers) if len(numbers) == 3 else (0.0, 0.0, 0.0)


def contrast(a, b) -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours."""
    def luminance(colour):
        channels = [c / 255 for c in colour]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# --- the person at the IdP ----------------------------------------------------------------

@dataclass
class Account:
    email: str
    password: str


class Member:
    """A person on the IdP's own pages: signup, membership, verification, sign-in."""

    def __init__(self, tab: Tab):
        self.tab, self.page = tab, tab.page

    def open_landing(self) -> Member:
        self.tab.goto("/", "landing", path="/")
        return self

    def follow_register_link(self) -> Member:
        self.tab.click(self.page.get_by_role("link", name=SEED["register_here"], exact=True),
                       "signup", path="/signup")
        return self

    def fill_signup(self, person: Person, account: Account, *, personnel: str = "public",
                    birthdate: str | None = None, english: tuple[str, str] | None = ("Test", "Member"),
                    submit: bool = True) -> Member:
        """Fill the form (seed 3.3) and press the seed's confirm button (unless not ``submit``)."""
        page = self.page
        page.select_option("#title_th", "นาย")
        page.fill("#given_name_th", person.given_name)
        page.fill("#family_name_th", person.family_name)
        if english:
            page.fill("#given_name_en", english[0])
            page.fill("#family_name_en", english[1])
        page.select_option("#gender", "male")
        page.fill("#birthdate", birthdate or person.signup_birthdate)
        page.fill("#email", account.email)
        if personnel == "moc":
            page.get_by_label(SEED["moc_personnel"], exact=True).check()
            page.fill("#department", "สำนักงานปลัดกระทรวงพาณิชย์")
            page.fill("#position", "นักวิชาการพาณิชย์")
        else:
            page.locator("input[name=personnel_type][value=public]").check()
        page.fill("#password", account.password)
        page.fill("#password_confirm", account.password)
        page.check("#pdpa_consent")
        return self.confirm_registration(account) if submit else self

    def confirm_registration(self, account: Account) -> Member:
        """The seed's confirm button, then the "check your mail" page: the password just
        chosen signs in (the email is filled in), on to the membership choice (seed 3.4)."""
        self.tab.press_button(SEED["confirm_registration"], "check-mail", path="/signup/sent")
        assert self.page.input_value("#email") == account.email
        self.page.fill("#password", account.password)
        self.tab.click("main form[action$='/login'] button[type=submit]", "membership",
                       path="/signup/membership")
        return self

    def choose_temporary(self, name: str = "after-temporary") -> Member:
        """The blue button (seed 3.4): temporary, usable at once."""
        button = self.page.locator("button.choice.temporary")
        assert SEED["temporary"] in button.inner_text()
        self.tab.click(button, name)
        return self

    def choose_permanent(self) -> Member:
        """The green button (seed 3.4): on to the identity check."""
        button = self.page.locator("button.choice.permanent")
        assert SEED["permanent"] in button.inner_text()
        self.tab.click(button, "verify-choose-method", path="/verify")
        return self

    def register(self, person: Person, account: Account, **options) -> Member:
        return self.open_landing().follow_register_link().fill_signup(person, account, **options)

    def sign_in(self, account: Account, name: str = "after-sign-in") -> Member:
        """On the login page: email, password, the sign-in button."""
        assert self.tab.path == "/login", self.page.url
        self.page.fill("#email", account.email)
        self.page.fill("#password", account.password)
        self.tab.click("main form[action$='/login'] button[type=submit]", name)
        return self

    def allow(self, name: str = "back-at-service") -> Member:
        """The consent page: allow."""
        assert self.tab.path == "/consent", self.page.url
        self.tab.click("button[name=decision][value=allow]", name)
        return self

    def open_account(self, name: str = "account") -> Member:
        self.tab.goto("/account", name, path="/account")
        return self

    def fill_identity(self, person: Person, birthdate: str | None = None) -> None:
        self.page.fill("#citizen_id", person.citizen_id)
        self.page.fill("#first_name_th", person.given_name)
        self.page.fill("#last_name_th", person.family_name)
        self.page.fill("#birthdate", birthdate or person.card_birthdate)

    def verify_as_public(self, person: Person, birthdate: str | None = None) -> Member:
        """From the method choice: the general-public method (DOPA)."""
        self.tab.click(self.page.get_by_role("link", name=SEED["public_method"], exact=True),
                       "verify-identity", path="/verify/identity")
        self.fill_identity(person, birthdate)
        self.tab.click("main form[action$='/verify/identity'] button[type=submit]", "after-identity-check")
        return self

    def verify_as_staff(self, person: Person, birthdate: str | None = None) -> Member:
        """From the method choice: the MOC personnel method (DOPA, then AD, then DPIS)."""
        self.tab.click(self.page.get_by_role("link", name=SEED["staff_method"], exact=True),
                       "verify-staff", path="/verify/staff")
        if self.page.locator("#citizen_id").count():
            self.fill_identity(person, birthdate)
        self.tab.press_button(SEED["submit_staff_identity"], "after-staff-check")
        return self

    def download_form(self):
        """The application form's link (seed 3.5); returns Playwright's Download."""
        link = self.page.locator("main a[download][href$='.pdf']")
        with self.page.expect_download() as info:
            link.click()
        return info.value

    def upload_document(self, name: str, content: bytes, mime: str) -> Member:
        """One file, the declaration, the seed's submit button (seed 3.5)."""
        self.page.set_input_files("#document", files=[{"name": name, "mimeType": mime,
                                                        "buffer": content}])
        self.page.get_by_label(SEED["declaration"]).check()
        self.tab.press_button(SEED["submit_staff_document"], "document-sent", path="/verify/staff/document")
        return self

    def switch_language(self, code: str, name: str) -> Member:
        self.tab.locale = code
        self.tab.click(f"nav.lang a[hreflang={code}]", name)
        return self

    def sign_out(self) -> Member:
        self.tab.click("main form[action$='/signout'] button[type=submit]", "signed-out", path="/")
        return self


# --- a relying party: the demo RP ---------------------------------------------------------

class RelyingParty:
    """The demo RP's pages, whose start page prints the ID token claims."""

    def __init__(self, tab: Tab, url: str, label: str = "rp"):
        self.tab, self.page, self.url, self.label = tab, tab.page, url.rstrip("/"), label

    def open(self) -> RelyingParty:
        self.tab.goto(self.url + "/", f"{self.label}-start")
        return self

    def press_sign_in(self, name: str | None = None) -> RelyingParty:
        """The RP's sign-in button: off to the IdP (login, consent, or straight back)."""
        self.tab.click("form[action$='/login'] button[type=submit]", name or f"{self.label}-to-idp")
        return self

    def sign_out(self, name: str | None = None) -> RelyingParty:
        self.tab.click("form[action$='/logout'] button[type=submit]", name or f"{self.label}-signed-out")
        return self

    def at_start(self) -> bool:
        return self.page.url.split("?")[0] == self.url + "/"

    def claims(self) -> dict:
        assert self.at_start(), f"not on the RP's start page: {self.page.url}"
        return json.loads(self.page.locator("#claims").inner_text())

    def userinfo(self) -> dict:
        return json.loads(self.page.locator("#userinfo").inner_text())


# --- the admin console --------------------------------------------------------------------

def totp_now(secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).now()


class Console:
    """Someone with a console role: signs in, sets up TOTP, then acts in the console."""

    def __init__(self, tab: Tab, account: Account):
        self.tab, self.page, self.account = tab, tab.page, account
        self.recovery_codes: list[str] = []

    def sign_in_and_enrol(self) -> Console:
        """/admin → sign in → the TOTP enrolment page → a code from the key → recovery codes."""
        self.tab.goto("/admin", "console-sign-in", path="/login")
        Member(self.tab).sign_in(self.account, "console-enrol")
        assert self.tab.path == "/admin/mfa/enrol", self.page.url
        secret = re.sub(r"\s", "", self.page.locator("#totp-secret").inner_text())
        self.page.fill("#code", totp_now(secret))
        self.tab.click("main form[action$='/admin/mfa/enrol'] button[type=submit]", "console-recovery-codes")
        self.recovery_codes = [c.strip() for c in self.page.locator("#recovery-codes code").all_inner_texts()]
        assert len(self.recovery_codes) == 10, self.recovery_codes
        self.tab.click("main a.button.primary[href$='/admin/']", "console-home", path="/admin/")
        return self

    def step_up_if_asked(self) -> None:
        """When the console asks for the second factor again, give a recovery code (a TOTP code
        of the step already used would be refused, and waiting 30 s is slow)."""
        if self.tab.path == "/admin/mfa/verify":
            self.page.fill("#code", self.recovery_codes.pop())
            self.tab.click("main form[action$='/admin/mfa/verify'] button[type=submit]",
                           "console-after-step-up")

    def approve_document_of(self, email: str) -> Console:
        self.tab.goto("/admin/review", "review-queue", path="/admin/review")
        row = self.page.locator("main table tbody tr", has_text=email)
        self.tab.click(row.locator("a[href*='/admin/review/']"), "review-detail")
        self.tab.click("main form[action$='/approve'] button[type=submit]", "review-approved")
        self.step_up_if_asked()
        return self

    def register_client(self, name: str, redirect_uri: str, post_logout_uri: str,
                        scopes=("openid", "profile", "email", "moc", "offline_access")) -> tuple[str, str]:
        """OAuth clients → register → the secret page; returns (client_id, client_secret)."""
        self.tab.goto("/admin/clients", "clients-list", path="/admin/clients")
        self.tab.click("main a[href$='/admin/clients/new']", "client-new")
        self.step_up_if_asked()
        page = self.page
        page.fill("#name", name)
        page.fill("#redirect_uris", redirect_uri)
        page.fill("#post_logout_redirect_uris", post_logout_uri)
        page.select_option("#token_endpoint_auth_method", "client_secret_basic")
        for box in page.locator("input[name=scopes]").all():
            box.set_checked(box.get_attribute("value") in scopes)
        for box in page.locator("input[name=grant_types]").all():
            box.set_checked(box.get_attribute("value") in ("authorization_code", "refresh_token"))
        self.tab.click("main form[action$='/admin/clients/new'] button[type=submit]", "client-secret")
        self.step_up_if_asked()
        return (page.locator("#client-id").inner_text().strip(),
                page.locator("#client-secret").inner_text().strip())
