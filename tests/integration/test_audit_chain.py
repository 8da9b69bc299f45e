"""The audit log is append-only and tamper-evident; the console filters it and exports CSV."""

from __future__ import annotations

import csv
import io
import re
import threading

import admin_support
import pytest
import sqlalchemy as sa

from idp import audit
from idp.db import db

console = admin_support.console  # the fixture, shared by the console tests


def record_some(app, count=5, **details):
    """Record ``count`` events and seal them: from then on they are tamper-evident."""
    with app.app_context():
        for i in range(count):
            audit.record(f"test:event:{i}", details={"n": i, **details})
        db.session.commit()
    seal(app)


def seal(app):
    result = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    return result


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def ids(app):
    from idp.audit import AuditEvent

    with app.app_context():
        return db.session.execute(sa.select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()


def raw_sql(app, statement, **params):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def test_an_intact_log_verifies(app):
    record_some(app)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 5 events")


def test_an_edited_row_is_found_and_named(app):
    record_some(app)
    third = ids(app)[2]
    raw_sql(app, "UPDATE audit_events SET details = :d WHERE id = :id", d='{"n": 99}', id=third)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {third}:" in result.output and "changed" in result.output


def test_a_rehashed_edit_breaks_the_next_link(app):
    """Whoever edits a row and recomputes its hash still breaks the link to the next row."""
    from idp.audit import AuditEvent
    from idp.audit_chain import link_hash

    record_some(app)
    second, third = ids(app)[1:3]
    with app.app_context():
        row = db.session.get(AuditEvent, second)
        forged = link_hash(row.prev_hash, type("Row", (), {**{c: getattr(row, c) for c in (
            "tag", "at", "actor_id", "subject_id", "client_id", "ip", "user_agent")},
            "details": {"n": 42}})())
    raw_sql(app, "UPDATE audit_events SET details = :d, hash = :h WHERE id = :id",
            d='{"n": 42}', h=forged, id=second)
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN at event {third}:" in result.output


def test_a_removed_row_is_found(app):
    record_some(app)
    raw_sql(app, "DELETE FROM audit_events WHERE id = :id", id=ids(app)[1])
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN at event {ids(app)[1]}:" in result.output


def test_removing_the_newest_rows_is_found_by_the_chain_head(app):
    record_some(app)
    newest = ids(app)[-1]
    raw_sql(app, "DELETE FROM audit_events WHERE id = :id", id=newest)
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN at event {newest}:" in result.output


def test_the_orm_refuses_to_change_or_remove_an_event(app):
    from idp.audit import AuditEvent, AuditLogIsAppendOnly

    record_some(app, 1)
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent)).scalar_one()
        event.details = {"n": 1000}
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.execute(sa.select(AuditEvent)).scalar_one())
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()


def test_events_of_a_rolled_back_transaction_are_not_stored(app):
    seal(app)
    with app.app_context():
        audit.record("test:rolled_back")
        db.session.rollback()
        audit.record("test:kept")
        db.session.commit()
        assert [e.tag for e in audit.events("test:")] == ["test:kept"]
    assert verify(app).exit_code == 0


def test_a_query_in_the_same_transaction_sees_its_events(app):
    """Events wait in the session until the commit, but an ORM query before it sees them (as
    the ORM's autoflush did), and they are written once."""
    seal(app)
    with app.app_context():
        audit.record("test:seen_before_commit", details={"n": 1})
        assert [e.tag for e in audit.events("test:")] == ["test:seen_before_commit"]
        audit.record("test:after_the_query")
        db.session.commit()
        assert [e.tag for e in audit.events("test:")] == ["test:seen_before_commit",
                                                           "test:after_the_query"]
    assert verify(app).exit_code == 0


def test_parallel_writers_make_one_unbroken_chain(app):
    """Sealers must never chain onto the same previous event (PostgreSQL row lock on the chain
    head; the SQLite write lock), whatever the background sealers do meanwhile."""
    errors = []

    def writer(name):
        try:
            with app.app_context():
                for i in range(10):
                    audit.record(f"test:{name}:{i}")
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "OK: 40 events" in result.output


@pytest.fixture
def no_background_sealer(app):
    app.config["AUDIT"] = {**app.config["AUDIT"], "SEAL_IN_BACKGROUND": False}
    return app


def chain_of(app):
    from idp.audit import AuditEvent

    with app.app_context():
        query = sa.select(AuditEvent.id, AuditEvent.chain_seq, AuditEvent.hash).order_by(AuditEvent.id)
        return db.session.execute(query).all()


def test_a_request_stores_its_events_unsealed_without_touching_the_chain_head(
        no_background_sealer, web, make_user):
    from tests.support.flows import Flow
    from tests.support.queries import counting_statements

    make_user()
    with counting_statements(no_background_sealer) as statements:
        assert Flow(web, "x").sign_in().status_code == 302
    assert any("INSERT INTO audit_events" in s for s in statements)
    assert not any("audit_chain_head" in s for s in statements), statements
    rows = chain_of(no_background_sealer)
    assert rows and all(row.hash is None for row in rows)
    assert f"sealed {len(rows)} events" in seal(no_background_sealer).output
    assert verify(no_background_sealer).output.startswith(f"OK: {len(rows)} events")


def test_events_from_two_threads_are_all_sealed_in_id_order(no_background_sealer):
    app = no_background_sealer
    barrier = threading.Barrier(2)

    def writer(name):
        with app.app_context():
            barrier.wait()
            for i in range(5):
                audit.record(f"test:{name}:{i}")
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "sealed 10 events" in seal(app).output
    rows = chain_of(app)
    assert [row.chain_seq for row in rows] == list(range(1, 11))
    assert verify(app).output.startswith("OK: 10 events")


def test_the_background_sealer_seals_after_commit(app):
    """Nothing but the commit asks for it: the process's sealer thread links the events."""
    import time

    app.config["AUDIT"] = {**app.config["AUDIT"], "SEAL_DELAY_SECONDS": 0}
    with app.app_context():
        audit.record("test:background:1")
        audit.record("test:background:2")
        db.session.commit()
    for _ in range(400):  # waits for the thread, whatever the machine's load; asserts no time
        if all(row.chain_seq for row in chain_of(app)):
            break
        time.sleep(0.05)
    assert [row.chain_seq is not None for row in chain_of(app)] == [True, True]


def test_tampering_after_sealing_is_found_and_sealing_again_does_not_hide_it(app):
    record_some(app, 3)
    first = ids(app)[0]
    raw_sql(app, "UPDATE audit_events SET hash = NULL, prev_hash = NULL, chain_seq = NULL "
                 "WHERE id = :id", id=first)
    result = verify(app)  # verify seals first: the event comes back at the end of the chain
    assert result.exit_code == 1 and "BROKEN at event" in result.output


def test_an_inserted_sealed_event_is_found(app):
    record_some(app, 3)
    raw_sql(app, "UPDATE audit_events SET chain_seq = chain_seq + 10 WHERE chain_seq >= 2")
    assert verify(app).exit_code == 1


def test_anything_shaped_like_a_citizen_id_is_masked_when_recorded(app):
    record_some(app, 1, reason="card 1-1037-02071-81-1 and 1103702071811, not 12345")
    with app.app_context():
        [event] = audit.events("test:")
    assert event.details["reason"] == "card [redacted] and [redacted], not 12345"


# --- the console ---------------------------------------------------------------------------

def test_the_audit_page_filters_by_tag_actor_and_time(app, console, clock):
    admin = console()
    record_some(app, 2)
    html = admin.text("/admin/audit?tag=test:event:1")
    assert "test:event:1" in html and "test:event:0" not in html
    html = admin.text("/admin/audit?actor=admin@moc.go.th")
    assert "admin:mfa:enrolled" in html and "test:event:0" not in html
    today = clock.now().date()
    assert "test:event:0" not in admin.text(f"/admin/audit?until={today.replace(year=today.year - 1)}")


def test_csv_export_holds_the_filtered_view_and_never_a_citizen_id(app, console, make_user):
    admin = console()
    target = make_user(email="member@example.com")
    record_some(app, 3, note="1103702071811")
    page = admin.text(f"/admin/accounts/{target}")
    assert page
    admin.post(f"/admin/accounts/{target}/disable", **{"disable-reason": "ID 1-1037-02071-81-1 fraud"})
    response = admin.web.get("/admin/audit.csv?tag=admin:account")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["tag"] for r in rows] == ["admin:account:disabled"]
    assert rows[0]["actor"] == "admin@moc.go.th" and rows[0]["subject"] == "member@example.com"
    everything = admin.web.get("/admin/audit.csv").get_data(as_text=True)
    assert "test:event:2" in everything
    assert not re.search(r"(?<!\d)\d(?:[ -]?\d){12}(?!\d)", everything)


def test_csv_cells_cannot_become_spreadsheet_formulas(app, console):
    admin = console()
    record_some(app, 1)
    with app.app_context():
        audit.record("=cmd|' /C calc'!A0")
        db.session.commit()
    text = admin.web.get("/admin/audit.csv").get_data(as_text=True)
    assert "\n=cmd" not in text and ",=cmd" not in text and "'=cmd" in text


def test_the_console_checks_the_chain(app, console):
    admin = console()
    record_some(app, 2)
    assert "The log is intact" in admin.text("/admin/audit?verify=1")
    raw_sql(app, "UPDATE audit_events SET tag = 'x' WHERE id = :id", id=ids(app)[0])
    assert f"event {ids(app)[0]} does not fit" in admin.text("/admin/audit?verify=1")
