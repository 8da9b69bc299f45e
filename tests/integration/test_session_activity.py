"""The SSO session's idle timeout counts from the last request, reads included; the time of
last use is written at most once a minute, and the absolute lifetime does not slide."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support.flows import PASSWORD, csrf_token


def sign_in(web):
    page = web.get("/login")
    response = web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                        "email": "somchai@example.com", "password": PASSWORD})
    assert response.status_code == 302
    return response


def signed_in(web) -> bool:
    return web.get("/account").status_code == 200


@pytest.fixture
def session_updates(app):
    """Counts UPDATE statements on login_sessions, as the database sees them."""
    from idp.db import db

    statements = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE LOGIN_SESSIONS"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", record)


def test_a_member_reading_pages_every_10_minutes_stays_signed_in(web, make_user, clock):
    make_user()
    sign_in(web)
    for _ in range(18):  # three hours, with IDLE_SECONDS = 2 hours
        clock.advance(minutes=10)
        assert signed_in(web)


def test_a_member_idle_for_longer_than_the_idle_time_is_signed_out(web, make_user, clock):
    make_user()
    sign_in(web)
    clock.advance(hours=1)
    assert signed_in(web)
    clock.advance(hours=2, seconds=1)
    assert not signed_in(web)


def test_reads_write_the_time_of_last_use_at_most_once_a_minute(web, make_user, clock, session_updates):
    make_user()
    sign_in(web)
    session_updates.clear()
    for _ in range(30):  # five minutes of reads, one every 10 seconds
        clock.advance(seconds=10)
        assert signed_in(web)
    assert 1 <= len(session_updates) <= 5


def test_reads_within_a_minute_of_sign_in_write_nothing(web, make_user, clock, session_updates):
    make_user()
    sign_in(web)
    session_updates.clear()
    for _ in range(10):
        clock.advance(seconds=5)
        assert signed_in(web)
    assert session_updates == []


def test_activity_does_not_extend_the_absolute_lifetime(app, web, make_user, clock):
    make_user()
    sign_in(web)
    lifetime = app.config["SESSION"]["LIFETIME_SECONDS"]
    for _ in range(lifetime // 1800 - 1):
        clock.advance(minutes=30)
        assert signed_in(web)
    clock.advance(minutes=30)
    assert not signed_in(web)


@pytest.mark.parametrize("how", ["idle", "ended", "account disabled"])
def test_authorize_reads_no_dead_session_as_signed_in(app, flow, clock, how):
    """/authorize reads the session with Core (sessions.session_view): a session idle too long,
    ended, or whose account was disabled gives no code under prompt=none, and its cookie is
    cleared."""
    from idp.accounts.models import LoginSession, User
    from idp.db import db
    from tests.support.flows import query_of

    flow.code()  # signed in, and the client has consent
    assert "code" in query_of(flow.authorize(prompt="none").headers["Location"])
    if how == "idle":
        clock.advance(hours=2, seconds=1)
    with app.app_context():
        if how == "ended":
            db.session.execute(sa.update(LoginSession).values(ended_at=clock.now()))
        if how == "account disabled":
            db.session.execute(sa.update(User).values(disabled_at=clock.now()))
        db.session.commit()
    response = flow.authorize(prompt="none")
    assert query_of(response.headers["Location"]).get("error") == "login_required"
    assert "Expires=Thu, 01 Jan 1970" in response.headers.get("Set-Cookie", "")
