"""Photos and scans are stored as fresh images: pixels only, no metadata.

A phone photo carries EXIF (GPS position, camera, time), and images may carry XMP, ICC
profiles and comments. The image is turned upright by its EXIF orientation, its pixels copied
into a new image with no ``info``, and that saved as a new JPEG or PNG: nothing but the
pixels survives. PDFs are stored as they came (their content was checked in
``documents.checks``).
"""

from __future__ import annotations

import hashlib
import tempfile

from idp.verification.documents.checks import JPEG, PNG, SPOOL_IN_MEMORY_BYTES, CheckedDocument

JPEG_QUALITY = 90  # a signed form stays legible; well under the size of the camera's original


def without_metadata(checked: CheckedDocument) -> CheckedDocument:
    """``checked`` re-encoded without metadata if it is an image; a PDF is returned as it is."""
    if checked.content_type not in (JPEG, PNG):
        return checked
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    try:
        _reencode(checked, spool)
    except BaseException:
        spool.close()
        raise
    checked.close()
    return _checked_from(spool, checked)


def _reencode(checked: CheckedDocument, out) -> None:
    from PIL import Image, ImageOps

    checked.spool.seek(0)
    with Image.open(checked.spool, formats=["JPEG" if checked.content_type == JPEG else "PNG"]) as image:
        upright = ImageOps.exif_transpose(image)
        pixels = upright.convert(_mode_for(upright, checked.content_type))
    # A new image from the bytes alone: no info dict (EXIF, XMP, ICC, comments) to carry over.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    if checked.content_type == JPEG:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)


def _mode_for(image, content_type: str) -> str:
    if image.mode in ("L", "1"):
        return "L"
    if content_type == PNG and ("A" in image.mode or "transparency" in image.info):
        return "RGBA"
    return "RGB"


def _checked_from(spool, original: CheckedDocument) -> CheckedDocument:
    digest, size = hashlib.sha256(), 0
    spool.seek(0)
    while chunk := spool.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    spool.seek(0)
    return CheckedDocument(original.content_type, size, digest.hexdigest(), original.filename, spool)
