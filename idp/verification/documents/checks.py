"""What an uploaded staff-verification document must be before it is stored.

One file, ``.jpg .jpeg .png .pdf``, at most ``MAX_BYTES`` (guide 3.5). The name only narrows the
choice; the content decides: magic bytes, then a real parse (Pillow for images, pypdf for PDFs).
Markup in disguise (HTML, SVG, XML, script) and PDFs with active content (JavaScript, launch
actions, embedded files, rich media, XFA forms) are refused, each with a reason key whose
message in ``refusal.REFUSAL_MESSAGES`` (gettext) tells the member what to do.

The body is read in chunks into a spooled temporary file and reading stops as soon as the limit
is passed, so an oversized upload is never held whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from idp.verification.documents.pdf import CHUNK_BYTES, check_pdf
from idp.verification.documents.refusal import DocumentRefused

MAX_BYTES = 10 * 1024 * 1024
# Kept in memory up to this size, then on disk: a phone photo does not sit in RAM per request.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
# An A4 page scanned at 600 dpi is about 35 megapixels; a 48-megapixel phone camera fits too.
MAX_PIXELS = 50_000_000
MAX_FILENAME_CHARS = 200

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".pdf": PDF}
# What browsers put in a part's Content-Type for these files. Other values (empty,
# application/octet-stream, whatever an operating system maps) say nothing; the content decides.
DECLARED_TYPES = {"image/jpeg": JPEG, "image/jpg": JPEG, "image/pjpeg": JPEG, "image/png": PNG,
                  "image/x-png": PNG, "application/pdf": PDF, "application/x-pdf": PDF}
PDF_HEADER_WINDOW = 1024  # PDF readers accept %PDF- anywhere in the first 1024 bytes.

class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left when -1); ``b""`` at the end."""


@dataclass(frozen=True)
class CheckedDocument:
    """A document that passed every check; its bytes wait in ``spool`` for the store."""

    content_type: str
    size: int
    sha256: str
    filename: str
    spool: BinaryIO = field(repr=False, compare=False)

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The document's bytes from the start, in chunks."""
        self.spool.seek(0)
        while chunk := self.spool.read(size):
            yield chunk

    def read_bytes(self) -> bytes:
        """The whole checked document (at most ``MAX_BYTES``)."""
        return b"".join(self.chunks())

    def close(self) -> None:
        """Drop the spooled bytes (the temporary file goes with them)."""
        self.spool.close()


def check_upload(stream: Readable, filename: str | None, declared_type: str | None, *,
                 max_bytes: int = MAX_BYTES) -> CheckedDocument:
    """Read ``stream`` (at most ``max_bytes``) and return it checked, or raise ``DocumentRefused``."""
    spool, size, sha256 = _spool_limited(stream, max_bytes)
    try:
        name = sanitize_filename(filename)
        content_type = _content_type(spool, size, name, declared_type)
        _parse(spool, content_type)
    except BaseException:
        spool.close()
        raise
    return CheckedDocument(content_type, size, sha256, name, spool)


def _spool_limited(stream: Readable, max_bytes: int) -> tuple[BinaryIO, int, str]:
    """Copy ``stream`` to a spooled file, refusing as soon as it passes ``max_bytes``."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    digest, size = hashlib.sha256(), 0
    try:
        # Ask for one byte past the limit at most: that byte is the proof it is too large.
        while chunk := stream.read(min(CHUNK_BYTES, max_bytes + 1 - size)):
            size += len(chunk)
            if size > max_bytes:
                raise DocumentRefused("too_large")
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


_UNSAFE_CHARACTERS = re.compile(
    "[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def sanitize_filename(filename: str | None) -> str:
    """The base name only, without control or bidi-override characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]  # old browsers send C:\Users\...\scan.jpg
    name = _UNSAFE_CHARACTERS.sub("", name).strip()
    if len(name) > MAX_FILENAME_CHARS:
        stem, extension = os.path.splitext(name)
        extension = extension[:10]
        name = stem[: MAX_FILENAME_CHARS - len(extension)] + extension
    return name


def _content_type(spool: BinaryIO, size: int, name: str, declared_type: str | None) -> str:
    """The type the content proves, checked against the name and the browser's declared type."""
    if size == 0:
        raise DocumentRefused("empty")
    by_name = EXTENSIONS.get(os.path.splitext(name)[1].lower())
    head = spool.read(PDF_HEADER_WINDOW)
    spool.seek(0)
    if by_name is None or _looks_like_markup(head):
        raise DocumentRefused("type_not_allowed")
    by_content = sniff(head)
    if by_content is None:  # a GIF, a Word file, a ZIP…: named as an allowed type but not one
        raise DocumentRefused("type_not_allowed")
    declared = DECLARED_TYPES.get((declared_type or "").split(";")[0].strip().lower())
    if by_content != by_name or declared not in (None, by_content):
        raise DocumentRefused("type_mismatch")
    return by_content


_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _looks_like_markup(head: bytes) -> bool:
    """HTML, SVG, XML or script, perhaps after a byte-order mark and white space.

    Whatever its name, such a file could run in a browser that sniffs it; it is never a scan.
    """
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            break
    head = head.replace(b"\x00", b"")  # UTF-16 markup: '<' followed by a zero byte
    return head.lstrip(b" \t\r\n\x0c\x0b").startswith(b"<")


def sniff(head: bytes) -> str | None:
    """The allowed type that ``head`` (the first bytes of a file) starts with, if any.

    ``%PDF-`` further in than offset 0 is not accepted: readers tolerate leading bytes, which is
    how polyglot files (valid as two formats at once) are made.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        raise DocumentRefused("pdf_invalid")
    return None


def _parse(spool: BinaryIO, content_type: str) -> None:
    if content_type == PDF:
        check_pdf(spool)
    else:
        _check_image(spool, "JPEG" if content_type == JPEG else "PNG")
    spool.seek(0)


def _check_image(spool: BinaryIO, pillow_format: str) -> None:
    """Parse the image for real: header, structure (``verify``), then every pixel (``load``)."""
    from PIL import Image

    try:
        with Image.open(spool, formats=[pillow_format]) as image:
            _refuse_too_many_pixels(image.size)
            image.verify()
        spool.seek(0)
        # verify() leaves the image unusable; decoding it all is what finds truncated data.
        with Image.open(spool, formats=[pillow_format]) as image:
            if pillow_format == "JPEG":
                # libjpeg decodes every block at 1/8 scale: the same data read, 1/64 of the memory.
                image.draft(image.mode, (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    except DocumentRefused:
        raise
    except Image.DecompressionBombError:
        raise DocumentRefused("image_too_large") from None
    except Exception:  # noqa: BLE001 - a malformed image can make a decoder raise anything
        raise DocumentRefused("image_invalid") from None


def _refuse_too_many_pixels(size: tuple[int, int]) -> None:
    """A decompression bomb is tiny on disk and huge decoded: refuse it before decoding.

    Checked here rather than by lowering Pillow's process-wide ``Image.MAX_IMAGE_PIXELS``, which
    would change every other use of Pillow in the process and is only a warning below 2×.
    """
    width, height = size
    if width * height > MAX_PIXELS:
        raise DocumentRefused("image_too_large")
