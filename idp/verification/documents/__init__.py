"""Staff-verification documents: checked (``checks.py``, ``pdf.py``, ``refusal.py``), cleaned of
metadata (``images.py``), stored (``store.py``) and purged after the retention period
(``retention.py``). The store's names are re-exported here, the package's old import path."""

from __future__ import annotations

from idp.verification.documents.store import (
    BACKENDS,
    DEFAULT_FOLDER,
    DatabaseDocumentStore,
    DocumentDamaged,
    DocumentStore,
    FilesystemDocumentStore,
    StoredDocument,
    StoredDocumentBlob,
    document_store_from_config,
    is_document_id,
    max_upload_bytes,
    new_document_id,
    save_with,
)

__all__ = ["BACKENDS", "DEFAULT_FOLDER", "DatabaseDocumentStore", "DocumentDamaged",
           "DocumentStore", "FilesystemDocumentStore", "StoredDocument", "StoredDocumentBlob",
           "document_store_from_config", "is_document_id", "max_upload_bytes", "new_document_id",
           "save_with"]
