"""Storage of staff-verification documents, outside the web root, under unguessable ids.

``DocumentStore`` is the role; ``BACKENDS`` maps the ``[DOCUMENTS] BACKEND`` config key to an
implementation, built by ``document_store_from_config``:

- ``"filesystem"`` ``FilesystemDocumentStore``: one folder (mode 0700) on this machine, files
  0600 named by the document id, never by the member's file name. The default.
- ``"database"`` ``DatabaseDocumentStore``: rows of ``stored_documents`` in the app's database,
  so that several IdP instances behind a load balancer share the documents.

Config keys of the ``[DOCUMENTS]`` table:

``BACKEND``    ``"filesystem"`` (default) or ``"database"``.
``FOLDER``     filesystem: where documents are kept (default ``<project root>/var/documents``);
               never inside ``idp/static`` or ``templates``, which the web server may serve.
``MAX_BYTES``  the largest upload accepted, in bytes (default 10485760, 10 MB: guide 3.5).

The documents are checked before they get here (``checks.check_upload``). Nothing is
left behind when an upload fails half-way: the database store joins the caller's transaction,
and ``save_with`` removes a saved file when the caller's rows cannot be written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from flask import has_app_context
from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.clock import now
from idp.config import PROJECT_ROOT, ConfigError
from idp.db import UtcDateTime, db
from idp.verification.documents.checks import MAX_BYTES, CheckedDocument

log = logging.getLogger("idp.verification.documents")

DEFAULT_FOLDER = PROJECT_ROOT / "var" / "documents"
SERVED_FOLDERS = (PROJECT_ROOT / "idp" / "static", PROJECT_ROOT / "templates")
TOKEN_BYTES = 24  # 192 random bits; secrets.token_urlsafe(24) is 32 characters
DOCUMENT_ID = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    content: bytes
    content_type: str
    filename: str
    size: int
    sha256: str


class DocumentDamaged(Exception):
    """A stored document's bytes no longer match the digest taken when it was checked."""


class DocumentStore(Protocol):
    """Where checked documents are kept until an admin has reviewed them.

    ``save`` stores a ``CheckedDocument`` and returns its id: ``secrets.token_urlsafe(24)``,
    unguessable, the only name the document has in storage. ``open`` returns the document, or
    None for an id that is unknown or not of that format (so a crafted id cannot reach outside
    the store). ``delete`` removes it; deleting an unknown id does nothing.

    Transactions: the database store's ``save`` and ``delete`` join the caller's session and
    take effect when the caller commits; the filesystem store's take effect at once. So save
    through ``save_with``, and delete before committing the change that drops the last
    reference (database) or after it (filesystem): either way nothing is lost if a commit fails.
    """

    def save(self, checked: CheckedDocument) -> str:
        """Store the checked document; returns its new unguessable id."""

    def open(self, document_id: str) -> StoredDocument | None:
        """The stored document, or None for an unknown or malformed id."""

    def delete(self, document_id: str) -> None:
        """Remove the document; an unknown id does nothing."""


def new_document_id() -> str:
    """A fresh unguessable id: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_document_id(value: object) -> bool:
    """Whether ``value`` has the format of a document id."""
    return isinstance(value, str) and DOCUMENT_ID.fullmatch(value) is not None


def save_with(store: DocumentStore, checked: CheckedDocument,
              write_rows: Callable[[str], None]) -> str:
    """Save ``checked``, then ``write_rows(document_id)`` (which adds its rows and commits).

    If ``write_rows`` raises, the session is rolled back and the saved document deleted before
    the error goes on: no file without a row, no row without a file.
    """
    document_id = store.save(checked)
    try:
        write_rows(document_id)
    except BaseException:
        _undo_save(store, document_id)
        raise
    return document_id


def _undo_save(store: DocumentStore, document_id: str) -> None:
    # Rolled back first: the database store's row goes with the transaction, and a session
    # that failed to commit must be rolled back before it can delete anything.
    try:
        if has_app_context():
            db.session.rollback()
        store.delete(document_id)
    except Exception:
        # The caller's error is the one to report; this one is logged for the operator.
        log.exception("could not remove document %s… after a failed upload", document_id[:6])


# --- filesystem ---------------------------------------------------------------------------

class FilesystemDocumentStore:
    """Documents as files in one private folder: ``<id>`` (the bytes) and ``<id>.json``.

    Each file is written under a temporary name in the same folder and renamed into place, so
    a reader never sees half a file. The JSON sidecar is written last and removed first: a
    document exists exactly when its sidecar does.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def save(self, checked: CheckedDocument) -> str:
        """See ``DocumentStore``."""
        self._ensure_folder()
        document_id = new_document_id()
        self._write(document_id, checked.chunks())
        metadata = {"content_type": checked.content_type, "filename": checked.filename,
                    "size": checked.size, "sha256": checked.sha256}
        self._write(f"{document_id}.json", [json.dumps(metadata, ensure_ascii=False).encode()])
        return document_id

    def open(self, document_id: str) -> StoredDocument | None:
        """See ``DocumentStore``."""
        if not is_document_id(document_id):
            return None
        try:
            metadata = json.loads((self.folder / f"{document_id}.json").read_text("utf-8"))
            content = (self.folder / document_id).read_bytes()
        except FileNotFoundError:
            return None
        return _verified(StoredDocument(document_id, content, **metadata))

    def delete(self, document_id: str) -> None:
        """See ``DocumentStore``."""
        if not is_document_id(document_id):
            return
        for name in (f"{document_id}.json", document_id):
            (self.folder / name).unlink(missing_ok=True)

    def _ensure_folder(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is cut by the umask and never applied to a folder that already exists.
        os.chmod(self.folder, 0o700)

    def _write(self, name: str, chunks) -> None:
        handle, temporary = tempfile.mkstemp(prefix=".partial-", dir=self.folder)  # mode 0600
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# --- database -----------------------------------------------------------------------------

class StoredDocumentBlob(db.Model):
    """A document kept in the database, for IdP instances that share no file system."""

    __tablename__ = "stored_documents"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DatabaseDocumentStore:
    """Documents as rows in the caller's session: they are committed (or rolled back) with it.

    ``save`` and ``delete`` flush but never commit; the caller commits together with its own
    rows (the submission that names the document), so a failed upload leaves no orphan row.
    """

    def save(self, checked: CheckedDocument) -> str:
        """See ``DocumentStore``."""
        row = StoredDocumentBlob(id=new_document_id(), content_type=checked.content_type,
                                 filename=checked.filename, size=checked.size,
                                 sha256=checked.sha256, data=checked.read_bytes(), created_at=now())
        db.session.add(row)
        db.session.flush()
        return row.id

    def open(self, document_id: str) -> StoredDocument | None:
        """See ``DocumentStore``."""
        row = db.session.get(StoredDocumentBlob, document_id) if is_document_id(document_id) else None
        if row is None:
            return None
        return _verified(StoredDocument(row.id, row.data, row.content_type, row.filename, row.size,
                                        row.sha256))

    def delete(self, document_id: str) -> None:
        """See ``DocumentStore``."""
        row = db.session.get(StoredDocumentBlob, document_id) if is_document_id(document_id) else None
        if row is not None:
            db.session.delete(row)
            db.session.flush()


def _verified(document: StoredDocument) -> StoredDocument:
    """Refuse to hand out bytes that are not the ones checked at upload (tampering, bad disk)."""
    if hashlib.sha256(document.content).hexdigest() != document.sha256:
        raise DocumentDamaged(f"stored document {document.document_id[:6]}… fails its digest")
    return document


# --- configuration ------------------------------------------------------------------------

BACKENDS: dict[str, Callable[[dict], DocumentStore]] = {
    "filesystem": lambda table: FilesystemDocumentStore(_folder(table)),
    "database": lambda table: DatabaseDocumentStore(),
}


def document_store_from_config(table: dict | None) -> DocumentStore:
    """The store the ``[DOCUMENTS]`` table names (see the module docstring for its keys)."""
    table = table or {}
    backend = table.get("BACKEND", "filesystem")
    if backend not in BACKENDS:
        raise ConfigError([f"[DOCUMENTS] BACKEND must be one of {sorted(BACKENDS)}, not {backend!r}"])
    return BACKENDS[backend](table)


def max_upload_bytes(table: dict | None) -> int:
    """``[DOCUMENTS] MAX_BYTES``, default 10 MB."""
    return int((table or {}).get("MAX_BYTES", MAX_BYTES))


def _folder(table: dict) -> Path:
    folder = Path(table.get("FOLDER") or DEFAULT_FOLDER).resolve()
    for served in SERVED_FOLDERS:
        if folder == served.resolve() or served.resolve() in folder.parents:
            raise ConfigError([f"[DOCUMENTS] FOLDER must be outside the web root, not in {served}"])
    return folder
