"""The review queue: reviewers see pending documents, view them safely, approve or reject."""

from __future__ import annotations

import admin_support
import pytest
import test_staff
from test_staff import PRAYOON, png_bytes, staff_check, stored, upload

from tests.support.flows import Flow, decode_jwt

console = admin_support.console
applicant = test_staff.applicant  # the fixture: a member on the document path


@pytest.fixture
def submitted(app, applicant):
    upload(applicant, png_bytes())
    from idp.verification.applications import queue

    with app.app_context():
        return queue()[0].id, queue()[0].document_id


def test_reviewer_sees_pending_submissions_oldest_first_with_their_age(app, make_user, console, submitted,
                                                                    clock):
    clock.advance(days=2)
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    page = reviewer.text("/admin/review")
    assert "ประยูร" in page and "2 day(s)" in page and "กรมการค้าต่างประเทศ" in page


def test_document_is_served_inert(app, console, submitted):
    _, document_id = submitted
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    response = reviewer.web.get(f"/admin/review/documents/{document_id}")
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_views_of_the_queue_and_documents_are_audited(app, console, submitted):
    application_id, document_id = submitted
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    reviewer.text(f"/admin/review/{application_id}")
    reviewer.web.get(f"/admin/review/documents/{document_id}")
    from idp.audit import events

    with app.app_context():
        tags = [e.tag for e in events("admin:review")]
    assert tags == ["admin:review:viewed", "admin:review:document_viewed"]


def test_approval_gives_the_badge_and_the_rp_sees_moc_staff(app, console, submitted, applicant, outbox,
                                                            make_client):
    application_id, _ = submitted
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    response = reviewer.post(f"/admin/review/{application_id}/approve",
                             csrf_from=f"/admin/review/{application_id}")
    assert response.status_code == 302
    user = stored(app, "p@example.com")
    assert (user["staff_status"], user["staff_verified_by"]) == ("verified", "document")
    assert outbox.wait_for("p@example.com", 2)  # the verification mail, then the decision
    client_id, secret = make_client()
    claims = decode_jwt(app, Flow(applicant, client_id).tokens(secret)["id_token"])
    assert claims["moc_staff"] is True and claims["moc_staff_verified_by"] == "document"


def test_rejection_needs_a_reason_which_the_member_then_sees(app, console, submitted, applicant, outbox):
    application_id, _ = submitted
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    path = f"/admin/review/{application_id}"
    assert reviewer.post(f"{path}/reject", csrf_from=path, reason="").status_code == 400
    assert stored(app, "p@example.com")["staff_status"] == "pending_review"
    reviewer.post(f"{path}/reject", csrf_from=path, reason="ไม่มีลายมือชื่อผู้บังคับบัญชา")
    assert stored(app, "p@example.com")["staff_status"] == "rejected"
    assert "ไม่มีลายมือชื่อผู้บังคับบัญชา" in applicant.get("/verify/staff/document").get_data(as_text=True)
    [decision] = [m for m in outbox.wait_for("p@example.com", 2) if "was not approved" in m["Subject"]]
    assert "ไม่มีลายมือชื่อผู้บังคับบัญชา" in decision.get_body(preferencelist=("plain",)).get_content()
    assert upload(applicant, png_bytes()).status_code == 302  # may submit again


def test_a_decision_cannot_be_made_twice(app, console, submitted):
    application_id, _ = submitted
    first = console(("reviewer",), email="r1@moc.go.th")
    second = console(("reviewer",), email="r2@moc.go.th")
    path = f"/admin/review/{application_id}"
    token = second.token(path)
    first.post(f"{path}/approve", csrf_from=path)
    second.web.post(f"{path}/reject", data={"csrf_token": token, "reason": "late reviewer"})
    assert stored(app, "p@example.com")["staff_status"] == "verified"


def test_non_reviewers_get_403_on_queue_and_document_urls(app, console, submitted):
    application_id, document_id = submitted
    manager = console(("client_manager",), email="cm@moc.go.th")
    for path in ("/admin/review", f"/admin/review/{application_id}",
                 f"/admin/review/documents/{document_id}"):
        assert manager.web.get(path).status_code == 403


def test_members_cannot_fetch_documents(app, applicant, submitted):
    _, document_id = submitted
    assert applicant.get(f"/admin/review/documents/{document_id}").status_code == 403


def test_document_ids_are_unguessable(submitted):
    _, document_id = submitted
    assert len(document_id) >= 32


def test_nobody_reviews_their_own_document(app, console, make_user):
    reviewer = console(("reviewer",), email="p2@example.com", given_name_th="ประยูร",
                       family_name_th="มั่นคง")
    staff_check(reviewer.web, PRAYOON)
    upload(reviewer.web, png_bytes())
    from idp.verification.applications import queue

    with app.app_context():
        application_id = queue()[0].id
    path = f"/admin/review/{application_id}"
    assert "another reviewer must decide" in reviewer.text(path)
    assert reviewer.post(f"{path}/approve", csrf_from="/account").status_code == 403
    assert stored(app, "p2@example.com")["staff_status"] == "pending_review"
