"""The document path end to end through HTTP: only after a DOPA-verified identity, uploads up
to the configured 10 MB, images stored without metadata, superseded documents deleted, limits
on uploads, the retention purge, and the reviewer's preview frame."""

from __future__ import annotations

import io
from html import unescape

import admin_support
import document_support
import pytest
import test_staff
from document_support import (
    applications_of,
    jpeg_of_size,
    minimal_pdf,
    photo_with_gps,
    small_jpeg,
    stored_count,
    stored_document,
)
from test_staff import PRAYOON, member, png_bytes, staff_check, stored, upload

from tests.support.flows import Flow, csrf_token

console = admin_support.console
backend = document_support.backend  # the fixture: each test on both document stores
applicant = test_staff.applicant  # a member on the document path, identity verified by DOPA
MB = 1024 * 1024
EMAIL = "p@example.com"


def page_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def audit_tags(app, prefix: str) -> list[str]:
    from idp.audit import events

    with app.app_context():
        return [event.tag for event in events(prefix)]


def reviewer_of(console):
    return console(("reviewer",), email="reviewer@moc.go.th")


def decide(reviewer, application_id: int, decision: str, **data):
    path = f"/admin/review/{application_id}"
    return reviewer.post(f"{path}/{decision}", csrf_from=path, **data)


# --- 1. the document path needs a DOPA-verified identity --------------------------------------

def test_document_path_is_refused_without_a_dopa_verified_identity(app, make_user):
    make_user(email="temp@example.com", given_name_th="ประยูร", family_name_th="มั่นคง")
    web = app.test_client()
    Flow(web, "x").sign_in(email="temp@example.com")

    page = web.get("/verify/staff/document")
    assert page.status_code == 403
    assert 'href="/verify/staff"' in page_of(page), "the page leads to the identity check"
    token = csrf_token(web.get("/account").get_data(as_text=True))
    response = web.post("/verify/staff/document", content_type="multipart/form-data", data={
        "csrf_token": token, "department": "กรมการค้าภายใน", "position": "นักวิชาการ",
        "declaration": "y", "document": (io.BytesIO(png_bytes()), "form.png")})
    assert response.status_code == 403
    assert applications_of(app, "temp@example.com") == []
    assert stored(app, "temp@example.com")["staff_status"] == "none"
    assert audit_tags(app, "verification:document") == ["verification:document:identity_required"]


def test_approval_is_refused_when_the_identity_is_not_verified(app, applicant, console, outbox):
    upload(applicant, png_bytes())
    [(application_id, *_)] = applications_of(app, EMAIL)
    _unverify(app, EMAIL)  # e.g. an admin unlinked the identity after the upload
    reviewer = reviewer_of(console)
    assert "cannot be approved" in reviewer.text(f"/admin/review/{application_id}")

    response = decide(reviewer, application_id, "approve")
    assert response.headers["Location"] == f"/admin/review/{application_id}"
    assert "identity has not been verified" in reviewer.text(f"/admin/review/{application_id}")
    assert applications_of(app, EMAIL)[0][1] == "pending_review"
    assert stored(app, EMAIL)["staff_status"] == "pending_review"
    assert "verification:document:approval_refused" in audit_tags(app, "verification:document")
    assert "verification:document:approved" not in audit_tags(app, "verification:document")
    assert not [m for m in outbox.to(EMAIL) if "is approved" in m["Subject"]]


def _unverify(app, email):
    from idp.accounts.service import find_by_email
    from idp.db import db

    with app.app_context():
        user = find_by_email(email)
        user.identity_verified, user.verified_given_name_th, user.verified_family_name_th = False, None, None
        db.session.commit()


def test_review_page_shows_dopa_names_beside_the_typed_ones_and_marks_a_difference(app, make_user, console):
    make_user(email=EMAIL, given_name_th="ประยุทธ", family_name_th="มั่นคงดี")  # typed at signup
    web = app.test_client()
    Flow(web, "x").sign_in(email=EMAIL)
    staff_check(web, PRAYOON)  # DOPA verifies ประยูร มั่นคง
    upload(web, png_bytes())
    [(application_id, *_)] = applications_of(app, EMAIL)

    page = reviewer_of(console).text(f"/admin/review/{application_id}")
    assert "ประยูร มั่นคง" in page and "ประยุทธ มั่นคงดี" in page
    assert "The names differ" in page and "differs from DOPA" in page
    assert stored(app, EMAIL)["citizen_id_masked"] in page


# --- 2. uploads up to 10 MB, a Thai 413 beyond --------------------------------------------------

@pytest.mark.parametrize("size", [5 * MB, 10 * MB])
def test_uploads_of_5_and_10_mb_are_accepted(app, applicant, size):
    response = upload(applicant, jpeg_of_size(size), filename="scan.jpg")
    assert response.status_code == 302, page_of(response)[:500]
    assert [status for _, status, *_ in applications_of(app, EMAIL)] == ["pending_review"]


def test_an_upload_of_10_mb_and_one_byte_gets_the_thai_page_and_keeps_what_was_typed(app, applicant):
    response = upload(applicant, jpeg_of_size(10 * MB + 1), filename="scan.jpg",
                      department="สำนักงานปลัดกระทรวงพาณิชย์", position="นักจัดการงานทั่วไป")
    assert response.status_code == 413
    page = page_of(response)
    assert "ไฟล์ใหญ่เกิน 10 MB" in page
    assert 'value="สำนักงานปลัดกระทรวงพาณิชย์"' in page and 'value="นักจัดการงานทั่วไป"' in page
    assert "Request Entity Too Large" not in page
    assert applications_of(app, EMAIL) == []


def test_a_body_far_over_the_limit_gets_the_thai_upload_page_not_werkzeugs(app, applicant):
    response = upload(applicant, jpeg_of_size(12 * MB), filename="scan.jpg")
    assert response.status_code == 413
    page = page_of(response)
    assert "ไฟล์ใหญ่เกิน 10 MB" in page and 'name="department"' in page
    assert "Request Entity Too Large" not in page


def test_other_routes_over_one_mib_get_a_thai_error_page(web):
    token = csrf_token(web.get("/login").get_data(as_text=True))
    response = web.post("/login", data={"csrf_token": token, "email": "a@example.com",
                                        "password": "x" * (2 * MB)})
    assert response.status_code == 413
    page = page_of(response)
    assert "Request Entity Too Large" not in page and "ใหญ่เกิน" in page


# --- 3. images without metadata ------------------------------------------------------------------

def test_a_photo_is_stored_and_served_without_exif_gps_icc_or_comment(app, applicant, console, backend):
    from PIL import Image

    assert upload(applicant, photo_with_gps(), filename="photo.jpg").status_code == 302
    [(application_id, _, document_id, _)] = applications_of(app, EMAIL)
    kept = stored_document(app, document_id).content
    served = reviewer_of(console).web.get(f"/admin/review/documents/{document_id}").data
    assert served == kept
    for content in (kept, served):
        assert b"Exif" not in content and b"home address" not in content and b"ICC_PROFILE" not in content
        image = Image.open(io.BytesIO(content))
        assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
        assert image.size == (40, 80), "turned upright by its EXIF orientation first"


def test_a_pdf_is_stored_as_it_came(app, applicant, backend):
    content = minimal_pdf()
    assert upload(applicant, content, filename="form.pdf").status_code == 302
    [(_, _, document_id, _)] = applications_of(app, EMAIL)
    assert stored_document(app, document_id).content == content


# --- 4. storage lifecycle --------------------------------------------------------------------------

def test_a_new_submission_deletes_the_superseded_document(app, applicant, console, backend):
    upload(applicant, png_bytes())
    upload(applicant, small_jpeg(), filename="second.jpg")  # a second tab still showed the form
    (first_id, first_status, first_document, deleted_at), (_, status, document_id, _) = \
        applications_of(app, EMAIL)
    assert (first_status, status) == ("cancelled", "pending_review")
    assert deleted_at is not None
    assert stored_document(app, first_document) is None
    assert stored_document(app, document_id) is not None
    assert stored_count(app, backend) == 1
    assert "replaced by a new one" in reviewer_of(console).text(f"/admin/review/{first_id}")


def cancel(web):
    page = web.get("/verify/staff/document").get_data(as_text=True)
    return web.post("/verify/staff/document/cancel", data={"csrf_token": csrf_token(page)})


def test_cancelling_deletes_the_document_and_marks_the_row(app, applicant, backend):
    upload(applicant, png_bytes())
    cancel(applicant)
    [(_, status, document_id, deleted_at)] = applications_of(app, EMAIL)
    assert status == "cancelled" and deleted_at is not None
    assert stored_count(app, backend) == 0


def test_uploads_are_limited_per_account_and_the_form_keeps_what_was_typed(app, applicant):
    app.config["RATE_LIMITS"]["DOCUMENT_UPLOAD_PER_ACCOUNT"] = "2 per day"
    for _ in range(2):
        assert upload(applicant, png_bytes()).status_code == 302
        cancel(applicant)
    response = upload(applicant, png_bytes(), department="กรมทรัพย์สินทางปัญญา")
    assert response.status_code == 429
    assert 'value="กรมทรัพย์สินทางปัญญา"' in page_of(response)
    assert len(applications_of(app, EMAIL)) == 2
    assert "verification:document:throttled" in audit_tags(app, "verification:document")


def test_a_member_may_keep_only_so_many_decided_documents(app, applicant, console):
    app.config["DOCUMENTS"]["MAX_KEPT_PER_MEMBER"] = 1
    upload(applicant, png_bytes())
    [(application_id, *_)] = applications_of(app, EMAIL)
    decide(reviewer_of(console), application_id, "reject", reason="ไม่มีลายมือชื่อ")
    response = upload(applicant, png_bytes())
    assert response.status_code == 429
    assert "90" in page_of(response), "the member is told when documents are deleted"
    assert len(applications_of(app, EMAIL)) == 1


def _purge(app, *args):
    result = app.test_cli_runner().invoke(args=["documents", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_purge_deletes_decided_documents_past_retention_and_keeps_the_rows(
        app, make_user, console, clock, backend):
    reviewer = reviewer_of(console)
    for email, decision, extra in (("a@example.com", "approve", {}),
                                   ("b@example.com", "reject", {"reason": "ไม่ชัดเจน"})):
        web = member(app, make_user, {**PRAYOON, "first_name_th": "ประยูร"}, email)
        _verify_directly(app, email)
        upload(web, png_bytes())
        decide(reviewer, applications_of(app, email)[0][0], decision, **extra)
    clock.advance(days=89)
    assert '"purged": 0' in _purge(app, "--json")
    assert stored_count(app, backend) == 2
    clock.advance(days=2)
    assert '"purged": 2' in _purge(app, "--json")
    assert stored_count(app, backend) == 0
    assert '"purged": 0' in _purge(app, "--json"), "a second run deletes nothing more"
    reviewer = console(("reviewer",), email="reviewer2@moc.go.th")  # the first one's session ended
    for email in ("a@example.com", "b@example.com"):
        [(application_id, status, _, deleted_at)] = applications_of(app, email)
        assert status in ("approved", "rejected") and deleted_at is not None
        assert "The document was deleted" in reviewer.text(f"/admin/review/{application_id}")
    assert stored(app, "a@example.com")["staff_status"] == "verified", "the decision stays"
    assert audit_tags(app, "verification:document:purged") == ["verification:document:purged"] * 3


def test_purge_keeps_pending_documents_whatever_their_age(app, applicant, clock, backend):
    upload(applicant, png_bytes())
    clock.advance(days=400)
    assert "0 document(s) deleted" in _purge(app)
    assert stored_count(app, backend) == 1


def _verify_directly(app, email):
    """An identity marked verified as the DOPA check would (another citizen ID per account)."""
    import secrets

    from idp.accounts.service import find_by_email
    from idp.db import db

    with app.app_context():
        user = find_by_email(email)
        user.identity_verified = True
        user.citizen_id_hash = secrets.token_hex(32)
        user.verified_given_name_th, user.verified_family_name_th = "ประยูร", "มั่นคง"
        db.session.commit()


# --- 6. the reviewer's preview --------------------------------------------------------------------

def test_the_document_may_be_framed_by_the_same_origin_only_and_stays_sandboxed(app, applicant, console):
    upload(applicant, minimal_pdf(), filename="form.pdf")
    [(application_id, _, document_id, _)] = applications_of(app, EMAIL)
    reviewer = reviewer_of(console)
    document = reviewer.web.get(f"/admin/review/documents/{document_id}")
    assert document.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = document.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and policy.startswith("sandbox")
    page = reviewer.web.get(f"/admin/review/{application_id}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert f'<iframe src="/admin/review/documents/{document_id}"' in page.get_data(as_text=True)
