"""The document store contract: the filesystem and the database store run the same suite (keep
what was checked, under unguessable ids, and leave nothing behind when an upload fails half-way:
the filesystem store through ``save_with``, the database store through the caller's
transaction), then each backend's own checks and the configuration."""

from __future__ import annotations

import io
import os
import re
import stat

import pytest
from PIL import Image

from idp import audit
from idp.config import PROJECT_ROOT, ConfigError
from idp.db import db
from idp.verification.documents import (
    DatabaseDocumentStore,
    DocumentDamaged,
    FilesystemDocumentStore,
    StoredDocumentBlob,
    document_store_from_config,
    max_upload_bytes,
    save_with,
)
from idp.verification.documents.checks import check_upload

TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def png_bytes(colour="white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "PNG")
    return out.getvalue()


def checked(content: bytes | None = None, filename="แบบคำขอ scan.png"):
    return check_upload(io.BytesIO(content or png_bytes()), filename, "image/png")


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "documents"


@pytest.fixture(params=["filesystem", "database"])
def store(request, app, folder):
    with app.app_context():
        yield (FilesystemDocumentStore(folder) if request.param == "filesystem"
               else DatabaseDocumentStore())


def audit_rows() -> int:
    return db.session.query(audit.AuditEvent).count()


# --- both stores --------------------------------------------------------------------------

def test_a_saved_document_comes_back_as_it_was_checked(store):
    document = checked()
    document_id = store.save(document)
    db.session.commit()
    db.session.remove()  # a later request, on another connection
    stored = store.open(document_id)
    assert stored.content == png_bytes()
    assert (stored.content_type, stored.filename, stored.size, stored.sha256) == (
        "image/png", "แบบคำขอ scan.png", document.size, document.sha256)


def test_document_ids_are_unguessable_tokens(store):
    ids = {store.save(checked()) for _ in range(20)}
    assert len(ids) == 20
    assert all(TOKEN.fullmatch(document_id) for document_id in ids)  # 192 random bits each


@pytest.mark.parametrize("crafted", ["../../etc/passwd", "..", "", "a" * 31, "a" * 33,
                                     "x" * 28 + "/../", "%2e%2e%2fetc", None, 42])
def test_ids_not_of_the_token_format_are_refused(store, crafted):
    assert store.open(crafted) is None
    store.delete(crafted)  # does nothing, raises nothing


def test_deleting_removes_the_document_and_an_unknown_id_is_no_error(store):
    document_id = store.save(checked())
    store.delete(document_id)
    assert store.open(document_id) is None
    store.delete(document_id)


def test_no_orphan_is_left_when_the_callers_rows_cannot_be_written(store, folder):
    def write_rows(document_id):
        audit.record("verification:document:submitted", details={"document": document_id})
        db.session.flush()
        raise RuntimeError("the submission row could not be written")

    with pytest.raises(RuntimeError, match="submission row"):
        save_with(store, checked(), write_rows)
    assert audit_rows() == 0
    assert db.session.query(StoredDocumentBlob).count() == 0
    assert not folder.exists() or os.listdir(folder) == []


def test_save_with_keeps_the_document_when_the_rows_are_committed(store):
    def write_rows(document_id):
        audit.record("verification:document:submitted", details={"document": document_id})
        db.session.commit()

    document_id = save_with(store, checked(), write_rows)
    db.session.remove()
    assert store.open(document_id).content == png_bytes()
    assert audit_rows() == 1


# --- filesystem ---------------------------------------------------------------------------

def test_files_are_private_and_named_by_the_id_only(app, folder):
    store = FilesystemDocumentStore(folder)
    old_umask = os.umask(0)  # the store must not rely on the process's umask
    try:
        document_id = store.save(checked(filename="../../secret.png"))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(os.listdir(folder)) == [document_id, f"{document_id}.json"]
    for name in os.listdir(folder):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


def test_a_path_through_the_id_cannot_reach_a_document_outside_the_folder(app, tmp_path, folder):
    elsewhere = FilesystemDocumentStore(tmp_path / "elsewhere")
    target = elsewhere.save(checked())
    store = FilesystemDocumentStore(folder)
    store.save(checked())
    for crafted in (f"../elsewhere/{target}", str(tmp_path / "elsewhere" / target)):
        assert store.open(crafted) is None
        store.delete(crafted)
    assert elsewhere.open(target) is not None


def test_an_existing_folder_is_made_private(app, folder):
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    FilesystemDocumentStore(folder).save(checked())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_no_half_written_file_is_left_when_writing_fails(app, folder):
    document = checked()

    def broken_chunks(size=65536):
        yield png_bytes()[:10]
        raise OSError("disk full")

    object.__setattr__(document, "chunks", broken_chunks)
    with pytest.raises(OSError, match="disk full"):
        FilesystemDocumentStore(folder).save(document)
    assert os.listdir(folder) == []


def test_a_document_without_its_sidecar_does_not_exist(app, folder):
    store = FilesystemDocumentStore(folder)
    document_id = store.save(checked())
    (folder / f"{document_id}.json").unlink()
    assert store.open(document_id) is None


def test_a_file_changed_on_disk_is_refused(app, folder):
    store = FilesystemDocumentStore(folder)
    document_id = store.save(checked())
    (folder / document_id).write_bytes(png_bytes("black"))
    with pytest.raises(DocumentDamaged):
        store.open(document_id)


# --- database -----------------------------------------------------------------------------

def test_the_database_store_rolls_back_with_the_callers_transaction(app):
    with app.app_context():
        store = DatabaseDocumentStore()
        document_id = store.save(checked())
        assert store.open(document_id) is not None  # visible inside the transaction
        db.session.rollback()
        assert store.open(document_id) is None
        assert db.session.query(StoredDocumentBlob).count() == 0


def test_the_database_store_never_commits_by_itself(app):
    with app.app_context():
        DatabaseDocumentStore().save(checked())
        db.session.remove()  # the request ends without a commit
        assert db.session.query(StoredDocumentBlob).count() == 0


def test_a_failed_commit_in_write_rows_leaves_no_row_and_a_usable_session(app):
    from idp.clock import now

    with app.app_context():
        store = DatabaseDocumentStore()
        first = save_with(store, checked(), lambda _id: db.session.commit())
        db.session.expunge_all()

        def write_rows(_document_id):  # the caller's commit fails: here, on a duplicate key
            db.session.add(StoredDocumentBlob(id=first, content_type="image/png", filename="x.png",
                                              size=1, sha256="0" * 64, data=b"x", created_at=now()))
            db.session.commit()

        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            save_with(store, checked(png_bytes("red")), write_rows)
        assert [row.id for row in db.session.query(StoredDocumentBlob)] == [first]


def test_a_row_changed_in_the_database_is_refused(app):
    with app.app_context():
        store = DatabaseDocumentStore()
        document_id = store.save(checked())
        db.session.get(StoredDocumentBlob, document_id).data = png_bytes("black")
        db.session.flush()
        with pytest.raises(DocumentDamaged):
            store.open(document_id)


# --- configuration ------------------------------------------------------------------------

def test_the_default_store_is_a_folder_under_var():
    store = document_store_from_config({})
    assert isinstance(store, FilesystemDocumentStore)
    assert store.folder == PROJECT_ROOT / "var" / "documents"
    assert not store.folder.exists() or store.folder.is_dir()  # nothing is created until a save
    assert max_upload_bytes({}) == 10 * 1024 * 1024
    assert max_upload_bytes({"MAX_BYTES": 5_000_000}) == 5_000_000


def test_config_picks_the_backend_and_folder(tmp_path):
    assert isinstance(document_store_from_config({"BACKEND": "database"}), DatabaseDocumentStore)
    store = document_store_from_config({"BACKEND": "filesystem", "FOLDER": str(tmp_path / "d")})
    assert store.folder == tmp_path / "d"
    with pytest.raises(ConfigError, match="BACKEND"):
        document_store_from_config({"BACKEND": "s3"})


@pytest.mark.parametrize("served", ["idp/static", "idp/static/forms/uploads", "templates"])
def test_a_folder_the_web_server_serves_is_refused(served):
    with pytest.raises(ConfigError, match="outside the web root"):
        document_store_from_config({"FOLDER": str(PROJECT_ROOT / served)})
