"""The document path in a real browser: photos of 5 MB and 10 MB go through (the upload route's
own limit applies before the form is parsed), and the reviewer's inline preview renders (the
document may be framed by the review page, and by nothing else)."""

from __future__ import annotations

from tests.e2e.pages import DESKTOP, SEED, Console, Member
from tests.integration.document_support import jpeg_of_size, minimal_pdf

MB = 1024 * 1024
PENDING = "รอการตรวจสอบ"


def member_on_the_document_path(open_tab, people, account) -> Member:
    person = people.take("document", made=True)  # in DOPA, not in AD or DPIS
    tab = open_tab("member")
    member = Member(tab).register(person, account, personnel="moc")
    member.choose_permanent().verify_as_staff(person, birthdate=person.card_birthdate)
    assert tab.path == "/verify/staff/document"
    return member


def cancel_submission(member: Member) -> None:
    member.tab.click("main form[action$='/document/cancel'] button[type=submit]", "cancelled",
                     path="/verify/staff/document")


def test_photos_of_5_mb_and_10_mb_are_sent_through_the_browser(open_tab, people, account):
    member = member_on_the_document_path(open_tab, people, account)
    member.upload_document("form-5mb.jpg", jpeg_of_size(5 * MB), "image/jpeg")
    assert PENDING in member.tab.text("main .notice:has(h2)")
    cancel_submission(member)

    member.upload_document("form-10mb.jpg", jpeg_of_size(10 * MB), "image/jpeg")
    assert PENDING in member.tab.text("main .notice:has(h2)")


def test_the_reviewer_sees_the_pdf_inline(open_tab, people, account, existing_account):
    member = member_on_the_document_path(open_tab, people, account)
    member.upload_document("application-form.pdf", minimal_pdf(), "application/pdf")
    reviewer = Console(open_tab("reviewer", viewport=DESKTOP),
                       existing_account(permanent=True, roles=["reviewer"]))
    reviewer.sign_in_and_enrol()
    tab = reviewer.tab
    tab.goto("/admin/review", "review-queue", path="/admin/review")
    row = tab.page.locator("main table tbody tr", has_text=account.email)
    with tab.page.expect_response(lambda r: "/admin/review/documents/" in r.url) as framed:
        tab.click(row.locator("a[href*='/admin/review/']"), "review-detail-with-preview")
    assert framed.value.status == 200
    frame = tab.page.locator("figure.document iframe").element_handle().content_frame()
    frame.wait_for_load_state("load")
    assert "/admin/review/documents/" in frame.url, f"the preview was blocked: {frame.url}"
    assert pdf_viewer_in(tab, frame), "Chromium's PDF viewer should draw the document"


def pdf_viewer_in(tab, frame) -> bool:
    """Whether Chromium's PDF viewer (an extension frame inside the document's) has loaded."""
    for _ in range(100):
        if any(child.url.startswith("chrome-extension://") for child in frame.child_frames):
            return True
        tab.page.wait_for_timeout(100)
    return False


def test_a_file_over_10_mb_is_caught_before_sending_and_what_was_typed_stays(open_tab, people, account):
    member = member_on_the_document_path(open_tab, people, account)
    page = member.tab.page
    page.fill("#department", "กรมการค้าต่างประเทศ")
    page.fill("#position", "นักวิชาการพาณิชย์")
    page.set_input_files("#document", files=[{"name": "big.jpg", "mimeType": "image/jpeg",
                                               "buffer": jpeg_of_size(10 * MB + 1)}])
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_label(SEED["declaration"]).check()
    member.tab.press_button(SEED["submit_staff_document"], "too-large-caught", path="/verify/staff/document")
    assert page.locator("#document-size-error").is_visible()
    assert "ไฟล์ใหญ่เกิน 10 MB" in page.locator("#document-size-error").inner_text()
    assert posts == [], "nothing is sent"
    assert page.input_value("#department") == "กรมการค้าต่างประเทศ"
    assert page.input_value("#position") == "นักวิชาการพาณิชย์"
