"""Helpers for the document tests: images of an exact size or with metadata, the store in use,
and reading what the store holds."""

from __future__ import annotations

import io

import pytest

from idp.db import db

SEGMENT_DATA = 65533  # a JPEG marker segment holds at most 65535 bytes, its length included


def small_jpeg(**save_options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, "JPEG", **save_options)
    return buffer.getvalue()


def jpeg_of_size(size: int) -> bytes:
    """A valid JPEG of exactly ``size`` bytes: a small image padded with comment (COM) segments
    right after the start-of-image marker, as a camera pads with its metadata."""
    base = small_jpeg()
    padding, missing = [], size - len(base)
    while missing > 0:
        take = min(missing, SEGMENT_DATA + 4)
        if 0 < missing - take < 4:  # leave room for one more segment's marker and length
            take -= 4
        data = take - 4
        padding.append(b"\xff\xfe" + (data + 2).to_bytes(2, "big") + b"p" * data)
        missing -= take
    padded = base[:2] + b"".join(padding) + base[2:]
    assert len(padded) == size
    return padded


def photo_with_gps() -> bytes:
    """A phone photo: EXIF with a GPS position and orientation 6 (turn 90° clockwise), an ICC
    profile and a comment."""
    from PIL import Image, ImageCms

    image = Image.new("RGB", (80, 40), (200, 30, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (13.0, 45.0, 3.5), 3: "E", 4: (100.0, 30.0, 7.25)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, icc_profile=icc, comment=b"home address here")
    return buffer.getvalue()


def minimal_pdf() -> bytes:
    """A one-page PDF (what a scanner's "save as PDF" gives, without the scan)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(params=["filesystem", "database"])
def backend(request, app, tmp_path):
    """Each test once with the documents in a folder and once in the database."""
    from idp.verification.applications import STORE
    from idp.verification.documents import DatabaseDocumentStore, FilesystemDocumentStore

    folder = tmp_path / "documents"
    app.extensions[STORE] = (FilesystemDocumentStore(folder) if request.param == "filesystem"
                             else DatabaseDocumentStore())
    return request.param, folder


def stored_document(app, document_id: str):
    from idp.verification.applications import store

    with app.app_context():
        document = store().open(document_id)
        db.session.remove()
        return document


def stored_count(app, backend) -> int:
    """How many documents the store holds (files with their sidecar, or rows)."""
    kind, folder = backend
    if kind == "filesystem":
        return len(list(folder.glob("*.json"))) if folder.exists() else 0
    from idp.verification.documents import StoredDocumentBlob

    with app.app_context():
        return db.session.query(StoredDocumentBlob).count()


def applications_of(app, email: str):
    """(id, status, document_id, document_deleted_at) of the member's submissions, oldest first."""
    from idp.accounts.service import find_by_email
    from idp.verification.applications import StaffApplication

    with app.app_context():
        user = find_by_email(email)
        rows = db.session.execute(db.select(StaffApplication).filter_by(user_id=user.id)
                                  .order_by(StaffApplication.id)).scalars()
        return [(a.id, a.status, a.document_id, a.document_deleted_at) for a in rows]
