"""Userinfo reads its token on a connection each thread keeps (idp/db.py, HeldConnections):
taken from the pool once, not per call; no transaction left open between calls; a connection
that broke is replaced, and the call it broke is answered by the app."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from idp.db import db


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Checkouts:
    """The pool's checkouts of the app's engine while it is active, by threads in ``threads``
    (this one if not given; the audit sealer's and the mail's background threads take
    connections of their own), with the DBAPI connection each gave."""

    def __init__(self, engine, threads=None):
        self.engine, self.connections = engine, []
        self.threads = threads if threads is not None else {threading.get_ident()}

    def _seen(self, dbapi_connection, _record, _proxy):
        if threading.get_ident() in self.threads:
            self.connections.append(dbapi_connection)

    def __enter__(self):
        sa.event.listen(self.engine.pool, "checkout", self._seen)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine.pool, "checkout", self._seen)


def _userinfo(flow, access):
    response = flow.web.get("/userinfo", headers=bearer(access))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_one_checkout_serves_many_calls_of_a_thread(app, flow):
    access = flow.tokens(flow.secret)["access_token"]
    _userinfo(flow, access)  # this thread's connection is taken here
    with app.app_context(), Checkouts(db.engine) as checkouts:
        answers = [_userinfo(flow, access) for _ in range(5)]
    assert checkouts.connections == []
    assert all(answer == answers[0] for answer in answers) and answers[0]["sub"]


def test_each_thread_has_its_own_connection(app, flow):
    access = flow.tokens(flow.secret)["access_token"]
    _userinfo(flow, access)
    callers = set()

    def call_three_times():
        callers.add(threading.get_ident())
        for _ in range(3):
            _userinfo(flow, access)

    with app.app_context(), Checkouts(db.engine, threads=callers) as checkouts:
        thread = threading.Thread(target=call_three_times)
        thread.start()
        thread.join()
    assert len(checkouts.connections) == 1  # the new thread's, taken once


def test_no_transaction_stays_open_between_calls(app, flow):
    """Each read ends its transaction (a ROLLBACK per call, never a COMMIT); on PostgreSQL the
    held connection's backend is then idle, not idle in a transaction."""
    access = flow.tokens(flow.secret)["access_token"]
    me, ended = threading.get_ident(), {"rollback": 0, "commit": 0}

    def counter(kind):
        def count(_connection):
            if threading.get_ident() == me:  # not the audit sealer's thread
                ended[kind] += 1
        return count

    listeners = {kind: counter(kind) for kind in ended}
    with app.app_context(), Checkouts(db.engine) as checkouts:
        for kind, listener in listeners.items():
            sa.event.listen(db.engine, kind, listener)
        try:
            for _ in range(3):
                _userinfo(flow, access)
        finally:
            for kind, listener in listeners.items():
                sa.event.remove(db.engine, kind, listener)
        (held,) = checkouts.connections
        assert ended == {"rollback": 3, "commit": 0}  # one ROLLBACK per call
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as other:
                state = other.execute(sa.text("SELECT state FROM pg_stat_activity WHERE pid = :p"),
                                      {"p": held.info.backend_pid}).scalar_one()
            assert state == "idle"


def test_a_broken_connection_is_answered_by_the_app_then_replaced(app, flow):
    access = flow.tokens(flow.secret)["access_token"]
    with app.app_context(), Checkouts(db.engine) as checkouts:
        first = _userinfo(flow, access)
        checkouts.connections[0].close()  # broken under the held connection
        assert _userinfo(flow, access) == first  # the middleware failed; the app answered
        assert _userinfo(flow, access) == first  # and a new connection was taken for it
        replacements = checkouts.connections[1:]
    assert replacements and all(c is not checkouts.connections[0] for c in replacements)
