"""Approve and cancel racing on the same submission: exactly one wins, and the audit log, the
mail, the member's staff status and the stored document all follow the winner.

Each round the member uploads a document, then a reviewer's approval and the member's cancel
are sent at the same moment from two threads, each through its own client (its own request
context, so its own database session and connection), on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import threading
from functools import partial

import admin_support
import test_staff
from document_support import applications_of, stored_document
from test_staff import png_bytes, upload

from idp.db import db
from tests.support.flows import csrf_token
from tests.support.mail import settle

console = admin_support.console
applicant = test_staff.applicant
ROUNDS = 30
EMAIL = "p@example.com"


def approval_mails(outbox) -> int:
    return len([m for m in outbox.to(EMAIL) if "is approved" in m["Subject"]])


def decisions_recorded(app, application_id: int) -> list[str]:
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events("verification:document:")
                if (e.details or {}).get("application") == application_id
                and e.tag.rsplit(":", 1)[1] in ("approved", "cancelled")]


def staff_status(app) -> str:
    from idp.accounts.service import find_by_email

    with app.app_context():
        return find_by_email(EMAIL).staff_status


def back_to_not_staff(app) -> None:
    """Between rounds: the member is not staff again, so that they may send a new document."""
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(EMAIL)
        user.staff_status, user.staff_verified_by, user.staff_verified_at = "none", None, None
        db.session.commit()


def race(*calls) -> list:
    """Run the calls in threads released together; their results in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_approve_racing_cancel_has_one_winner_and_everything_agrees_with_it(app, applicant, console, outbox):
    app.config["RATE_LIMITS"]["DOCUMENT_UPLOAD_PER_ACCOUNT"] = "1000 per day"
    app.config["DOCUMENTS"]["MAX_KEPT_PER_MEMBER"] = 1000
    reviewer = console(("reviewer",), email="reviewer@moc.go.th")
    winners = []
    for _ in range(ROUNDS):
        back_to_not_staff(app)
        assert upload(applicant, png_bytes()).status_code == 302
        application_id, _, document_id, _ = applications_of(app, EMAIL)[-1]
        path = f"/admin/review/{application_id}"
        approve_token = reviewer.token(path)
        cancel_token = csrf_token(applicant.get("/verify/staff/document").get_data(as_text=True))
        mails_before = approval_mails(outbox)

        race(partial(reviewer.web.post, f"{path}/approve", data={"csrf_token": approve_token}),
             partial(applicant.post, "/verify/staff/document/cancel", data={"csrf_token": cancel_token}))

        _, status, _, deleted_at = applications_of(app, EMAIL)[-1]
        winners.append(status)
        assert status in ("approved", "cancelled")
        assert decisions_recorded(app, application_id) == [f"verification:document:{status}"]
        assert staff_status(app) == ("verified" if status == "approved" else "none")
        kept = stored_document(app, document_id) is not None
        assert kept == (status == "approved") and (deleted_at is None) == kept
        settle(app)  # the outbox sends after the response
        assert approval_mails(outbox) - mails_before == (1 if status == "approved" else 0)
    print("winners:", {status: winners.count(status) for status in set(winners)})
