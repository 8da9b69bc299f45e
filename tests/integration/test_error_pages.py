"""Failures as pages people can use: Thai first, a request id to quote that is also in the
log line, 503 with Retry-After when the database cannot be reached, 507 when the disk is full,
and never Werkzeug's English error page."""

from __future__ import annotations

import errno
import io
import logging
import re

import pytest

from tests.support.faults import closed_port
from tests.support.flows import PASSWORD, Flow, csrf_token

WERKZEUG_ENGLISH = ("Internal Server Error", "The requested URL was not found",
                    "Method Not Allowed", "Request Entity Too Large")


def page_request_id(response) -> str:
    match = re.search(r"<code>([0-9a-f]{32})</code>", response.get_data(as_text=True))
    assert match, "the page shows no request id"
    return match.group(1)


def assert_thai_error_page(response, status):
    body = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert '<html lang="th">' in body and not any(text in body for text in WERKZEUG_ENGLISH)
    assert page_request_id(response) == response.headers["X-Request-ID"]


@pytest.mark.parametrize("url", [
    lambda tmp: f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp?connect_timeout=2",
    lambda tmp: f"sqlite:///{tmp / 'gone' / 'idp.sqlite3'}",  # the folder was removed
], ids=["postgresql-port-closed", "sqlite-folder-removed"])
def test_an_unreachable_database_answers_503_in_thai_with_retry_after(build, tmp_path, caplog, url):
    app = build({"DATABASE_URL": url(tmp_path)}, empty=False)
    web = app.test_client()
    web.set_cookie("moc_sso", "a-returning-member")  # so the page asks the database
    with caplog.at_level(logging.ERROR, logger="idp.errors"):
        response = web.get("/login")
    assert_thai_error_page(response, 503)
    assert response.headers["Retry-After"] == "30"
    assert "ฐานข้อมูล" in response.get_data(as_text=True)
    assert any(response.headers["X-Request-ID"] in r.getMessage() for r in caplog.records)


def test_the_token_endpoint_answers_json_when_the_database_is_down(build):
    app = build({"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp"},
                empty=False)
    response = app.test_client().post("/token", data={"grant_type": "authorization_code",
                                                      "code": "x", "client_id": "c"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json == {"error": "temporarily_unavailable",
                             "error_description": response.json["error_description"]}
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/no/such/page", 404), ("get", "/token", 405), ("delete", "/login", 405)])
def test_http_errors_are_thai_pages_with_a_request_id(web, method, path, status):
    assert_thai_error_page(getattr(web, method)(path), status)


def test_a_body_over_the_limit_gets_the_thai_413_page(web):
    response = web.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert_thai_error_page(response, 413)


def test_every_response_names_its_request_id_and_each_is_new(web):
    first, second = web.get("/login"), web.get("/login")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert web.get("/.well-known/openid-configuration").headers["X-Request-ID"]


def test_an_unexpected_error_is_a_thai_500_whose_id_is_in_the_log(app, caplog):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="idp.errors"):
        response = app.test_client().get("/boom-for-test")
    assert_thai_error_page(response, 500)
    assert any(page_request_id(response) in r.getMessage() for r in caplog.records)


class FullDisk:
    """The real folder store on a disk that fills up during the write."""

    def __init__(self, folder):
        from idp.verification.documents import FilesystemDocumentStore

        self.store = FilesystemDocumentStore(folder)
        self.store._write = self._write_until_full

    def _write_until_full(self, name, chunks):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_full_disk_while_storing_a_document_answers_507_and_keeps_nothing(build, tmp_path, caplog):
    from PIL import Image

    app = build({}, extra_adapters={"document_store": FullDisk(tmp_path / "documents")})
    _member(app)
    web = app.test_client()
    Flow(web, "unused").sign_in()
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(image, "PNG")
    page = web.get("/verify/staff/document").get_data(as_text=True)
    with caplog.at_level(logging.ERROR, logger="idp.errors"):
        response = web.post("/verify/staff/document", content_type="multipart/form-data", data={
            "csrf_token": csrf_token(page), "department": "กรม", "position": "นักวิชาการ",
            "declaration": "y", "document": (io.BytesIO(image.getvalue()), "form.png")})
    assert_thai_error_page(response, 507)
    assert any(response.headers["X-Request-ID"] in r.getMessage() for r in caplog.records)
    assert not list((tmp_path / "documents").glob("*"))


def test_sqlite_database_or_disk_is_full_is_recognised_as_a_full_disk():
    """A real SQLite 'database or disk is full', from a database capped at a few pages."""
    import sqlalchemy as sa

    from idp.errors import is_disk_full

    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (b BLOB)")
        connection.exec_driver_sql("PRAGMA max_page_count = 3")
        with pytest.raises(sa.exc.OperationalError) as full:
            connection.exec_driver_sql("INSERT INTO t VALUES (zeroblob(100000))")
    assert is_disk_full(full.value)


def _member(app):
    from idp.accounts.service import create_user
    from idp.db import db

    with app.app_context():
        user = create_user("somchai@example.com", PASSWORD, given_name_th="สมชาย", family_name_th="ใจดี")
        # The document path needs a verified identity (as the DOPA check would leave it).
        user.identity_verified = True
        user.verified_given_name_th, user.verified_family_name_th = "สมชาย", "ใจดี"
        db.session.commit()


def test_a_connection_lost_after_the_last_query_does_not_spoil_the_answer(app, flow, caplog):
    """The database restarts between a request's last query and its end: the ROLLBACK that ends
    the session fails. The answer already made is still given, and the next request works."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from idp.db import db

    assert flow.sign_in().status_code == 302
    failures = []

    def lost(_connection):
        if not failures:
            failures.append("rollback")
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "rollback", lost)
    try:
        with caplog.at_level(logging.WARNING, logger="idp.db"):
            response = flow.web.get("/account")
    finally:
        event.remove(engine, "rollback", lost)
    assert failures == ["rollback"]
    assert response.status_code == 200 and "สมชาย" in response.get_data(as_text=True)
    assert any("connection was lost" in record.getMessage() for record in caplog.records)
    assert flow.web.get("/account").status_code == 200
