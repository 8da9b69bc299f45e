"""MOC personnel (seed 3.5–3.6): found in AD or DPIS at once, or a document an admin approves;
and a staff-only service that sends others to verify first."""

from __future__ import annotations

import io

from tests.e2e.pages import DESKTOP, SEED, Console, Member, RelyingParty, thai_date, today_in_bangkok

BADGE = "บุคลากรกระทรวงพาณิชย์ที่ยืนยันตัวตนแล้ว"


def scanned_form_png() -> bytes:
    """A small PNG standing for a photographed application form."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 420), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 300, 60), outline="black", width=3)
    for y in range(90, 400, 30):
        draw.line((30, y, 290, y), fill="gray", width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sign_in_at(rp: RelyingParty, member: Member) -> dict:
    """At the RP: sign in (already signed in at the IdP), allow, and read the claims."""
    rp.open().press_sign_in("consent")
    member.allow("rp-signed-in")
    return rp.claims()


def test_personnel_found_in_ad_gets_the_badge_at_once(tab, demo_rp, people, account):
    person = people.take("ad")  # สมชาย ใจดี, in the sample AD as an enabled account
    member = Member(tab).register(person, account, personnel="moc")
    member.choose_permanent().verify_as_staff(person)

    assert tab.path == "/account"
    assert tab.page.locator(".facts .badge").inner_text() == BADGE
    assert "สมาชิกถาวร" in tab.text(".facts")

    claims = sign_in_at(RelyingParty(tab, demo_rp.url), member)
    assert claims["moc_staff"] is True
    assert claims["moc_staff_verified_by"] == "ad"
    assert claims["moc_account_type"] == "permanent"


def test_personnel_not_found_send_the_form_and_a_reviewer_approves_it(
        open_tab, demo_rp, people, account, existing_account):
    person = people.take("document")  # ประยูร มั่นคง: in DOPA, born 00/00/2490, not in AD/DPIS
    tab = open_tab("member")
    member = Member(tab).register(person, account, personnel="moc")
    member.choose_permanent().verify_as_staff(person, birthdate="00/00/2490")
    assert tab.path == "/verify/staff/document"
    assert "ไม่พบข้อมูล" in tab.text(".notice")

    download = member.download_form()
    assert download.suggested_filename.endswith(".pdf")
    assert open(download.path(), "rb").read(5) == b"%PDF-"
    member.upload_document("application-form.png", scanned_form_png(), "image/png")
    pending = tab.text("main .notice:has(h2)")
    assert "รอการตรวจสอบ" in pending
    assert thai_date(today_in_bangkok()) in pending, "the day it was sent, in the Buddhist era"

    reviewer = Console(open_tab("reviewer", viewport=DESKTOP),
                       existing_account(permanent=True, roles=["reviewer"]))
    reviewer.sign_in_and_enrol().approve_document_of(account.email)

    member.open_account("account-with-badge")
    assert tab.page.locator(".facts .badge").inner_text() == BADGE
    claims = sign_in_at(RelyingParty(tab, demo_rp.url), member)
    assert claims["moc_staff"] is True
    assert claims["moc_staff_verified_by"] == "document"


def test_staff_only_service_sends_a_new_member_to_verify_then_lets_them_in(
        tab, staff_rp, people, account):
    person = people.take("dpis")  # found in DPIS (in service), not in AD
    rp = RelyingParty(tab, staff_rp.url, "staff-rp").open()
    rp.press_sign_in("login")
    member = Member(tab)
    member.follow_register_link().fill_signup(person, account, personnel="moc")
    member.choose_temporary("staff-only-refusal")

    heading = tab.page.locator("main h1").inner_text()  # "<service> is for verified MOC personnel only"
    assert "ระบบงานบุคลากร MOC" in heading and "บุคลากรกระทรวงพาณิชย์" in heading
    assert not rp.at_start()
    tab.click("main a.button.primary[href*='/verify']", "verify-choose-method", path="/verify")
    member.verify_as_staff(person)
    assert tab.path == "/consent", "after verification the sign-in should go on where it stopped"
    member.allow("staff-rp-signed-in")

    claims = rp.claims()
    assert claims["moc_staff"] is True
    assert claims["moc_staff_verified_by"] == "dpis"
    assert claims["moc_account_type"] == "permanent"  # the DOPA check on the way made it so


def test_cancel_on_the_staff_method_goes_back_to_the_choice(tab, people, account):
    person = people.take("public")
    member = Member(tab).register(person, account, personnel="moc")
    member.choose_permanent()
    tab.click(tab.page.get_by_role("link", name=SEED["staff_method"], exact=True), "verify-staff")
    tab.click(tab.page.get_by_role("link", name=SEED["cancel"], exact=True), "back-to-choice", path="/verify")
