"""What an uploaded staff-verification document must be before it is stored.

One file, ``.jpg .jpeg .png .pdf``, at most ``MAX_BYTES`` (guide 3.5). The name only narrows the
choice; the content decides: magic bytes, then a real parse (Pillow for images, pypdf for PDFs).
Markup in disguise (HTML, SVG, XML, script) and PDFs with active content (JavaScript, launch
actions, embedded files, rich media, XFA forms) are refused, each with a reason key whose
message in ``REFUSAL_MESSAGES`` tells the member what to do.

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

MAX_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
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

REFUSAL_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "ไฟล์มีขนาดเกิน 10 MB กรุณาสแกนด้วยความละเอียดที่ต่ำลง หรือบันทึกเป็นไฟล์ PDF ที่มีขนาดเล็กลง",
        "The file is larger than 10 MB. Please scan at a lower resolution or save as a smaller PDF.",
    ),
    "empty": (
        "ไฟล์ที่แนบว่างเปล่า กรุณาเลือกไฟล์เอกสารที่สแกนหรือถ่ายรูปไว้ แล้วแนบใหม่อีกครั้ง",
        "The file is empty. Please choose the scanned or photographed document and attach it again.",
    ),
    "type_not_allowed": (
        "รองรับเฉพาะไฟล์ .jpg .jpeg .png หรือ .pdf กรุณาสแกนหรือถ่ายรูปเอกสาร แล้วบันทึกเป็นไฟล์ประเภทดังกล่าว",
        "Only .jpg, .jpeg, .png or .pdf files are accepted. Please scan or photograph the document "
        "and save it as one of these types.",
    ),
    "type_mismatch": (
        "นามสกุลของไฟล์ไม่ตรงกับเนื้อหาของไฟล์ กรุณาบันทึกไฟล์ใหม่ด้วยนามสกุลที่ถูกต้อง "
        "(รูปภาพ JPEG เป็น .jpg รูปภาพ PNG เป็น .png เอกสาร PDF เป็น .pdf)",
        "The file name's extension does not match what the file contains. Please save it again with "
        "the right extension (a JPEG photo as .jpg, a PNG image as .png, a PDF as .pdf).",
    ),
    "image_invalid": (
        "ไม่สามารถเปิดรูปภาพนี้ได้ ไฟล์อาจเสียหายหรือบันทึกไม่สมบูรณ์ กรุณาถ่ายรูปหรือสแกนใหม่ แล้วแนบอีกครั้ง",
        "This image cannot be opened: it may be damaged or incompletely saved. Please photograph or "
        "scan the document again and attach the new file.",
    ),
    "image_too_large": (
        "รูปภาพมีความละเอียดสูงเกินไป (เกิน 50 ล้านพิกเซล) กรุณาลดขนาดรูปภาพหรือสแกนด้วยความละเอียดที่ต่ำลง",
        "The image has too many pixels (more than 50 megapixels). Please resize it or scan at a "
        "lower resolution.",
    ),
    "pdf_invalid": (
        "ไม่สามารถเปิดไฟล์ PDF นี้ได้ ไฟล์อาจเสียหายหรือไม่ใช่ PDF มาตรฐาน กรุณาบันทึกหรือสแกนเป็น PDF ใหม่ "
        "หรือแนบเป็นรูปภาพ .jpg หรือ .png แทน",
        "This PDF cannot be opened: it may be damaged or not a standard PDF. Please save or scan it "
        "as a new PDF, or attach a .jpg or .png image instead.",
    ),
    "pdf_encrypted": (
        "ไฟล์ PDF นี้มีการตั้งรหัสผ่านหรือเข้ารหัสไว้ กรุณาบันทึกเป็น PDF ที่ไม่มีรหัสผ่าน แล้วแนบใหม่อีกครั้ง",
        "This PDF is password-protected or encrypted. Please save a copy without a password and "
        "attach it again.",
    ),
    "pdf_active_content": (
        "ไฟล์ PDF นี้มีสคริปต์ การกระทำอัตโนมัติ หรือไฟล์แนบซ่อนอยู่ ซึ่งระบบไม่รับด้วยเหตุผลด้านความปลอดภัย "
        "กรุณาพิมพ์เอกสารแล้วสแกนใหม่ หรือใช้คำสั่ง “พิมพ์เป็น PDF” แล้วแนบไฟล์ใหม่",
        "This PDF contains scripts, automatic actions or attached files, which are not accepted for "
        "security reasons. Please print and scan the document, or use “Print to PDF”, and attach "
        "the new file.",
    ),
}


class DocumentRefused(Exception):
    """The upload is not an acceptable document; ``reason`` is a key of ``REFUSAL_MESSAGES``."""

    def __init__(self, reason: str):
        if reason not in REFUSAL_MESSAGES:
            raise ValueError(f"no message for refusal reason {reason!r}")
        super().__init__(reason)
        self.reason = reason

    def messages(self) -> tuple[str, str]:
        """The (Thai, English) message for the member."""
        return REFUSAL_MESSAGES[self.reason]


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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
        _check_pdf(spool)
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


# --- PDF ----------------------------------------------------------------------------------
# Names that make a PDF do something rather than show something (ISO 32000-1: 12.6 actions,
# 12.6.2 /AA additional actions, 7.11.4 embedded files, 12.5.6.15 file attachment annotations,
# 12.7.8 XFA forms; Adobe's supplement for /RichMedia). A scanned or printed form needs none.
ACTIVE_KEYS = {"/JavaScript", "/JS", "/AA", "/Launch", "/EmbeddedFiles", "/EF", "/RichMedia",
               "/RichMediaContent", "/XFA"}
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/Rendition",
                  "/RichMediaExecute", "/Movie", "/Sound"}
ACTIVE_SUBTYPES = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}
ACTIVE_TYPES = {"/EmbeddedFile"}
# The same names found in the raw bytes, for objects a viewer may see and pypdf's repaired
# cross-reference table may not. Only names long enough never to occur by chance in
# compressed data, followed by a PDF delimiter.
RAW_ACTIVE_NAMES = re.compile(rb"/(?:JavaScript|Launch|EmbeddedFiles|RichMedia|XFA)[\s/<>\[\]()%]")
MAX_PDF_OBJECTS = 50_000


def _check_pdf(spool: BinaryIO) -> None:
    """Parse the PDF with pypdf and refuse it if it is broken, encrypted or has active content."""
    from pypdf import PdfReader

    if _raw_active_content(spool):
        raise DocumentRefused("pdf_active_content")
    try:
        reader = PdfReader(spool, strict=False)
        if reader.is_encrypted:
            raise DocumentRefused("pdf_encrypted")
        if len(reader.pages) == 0:
            raise DocumentRefused("pdf_invalid")
        _walk_pdf(reader)
    except DocumentRefused:
        raise
    except Exception:  # noqa: BLE001 - a malformed PDF can make the parser raise anything
        raise DocumentRefused("pdf_invalid") from None


def _raw_active_content(spool: BinaryIO) -> bool:
    spool.seek(0)
    tail = b""
    while chunk := spool.read(CHUNK_BYTES):
        if RAW_ACTIVE_NAMES.search(tail + chunk):
            return True
        tail = chunk[-32:]
    spool.seek(0)
    return False


def _walk_pdf(reader) -> None:
    """Visit every object reachable from the trailer and every object the xref lists, once.

    Indirect references are followed once each (the graph has cycles: /Parent, /P); the count
    of visits is bounded, so a crafted file cannot keep the check busy.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    pending: list = [reader.trailer]
    pending += [IndirectObject(number, generation, reader)
                for generation, entries in reader.xref.items() for number in entries]
    pending += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    seen: set[tuple[int, int]] = set()
    for _ in range(MAX_PDF_OBJECTS):
        if not pending:
            return
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            _refuse_active_dictionary(item)
            pending.extend(v for v in item.values() if _is_container(v))
        elif isinstance(item, ArrayObject):
            pending.extend(v for v in item if _is_container(v))
    raise DocumentRefused("pdf_invalid")  # too many objects to check


def _is_container(value) -> bool:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    return isinstance(value, ArrayObject | DictionaryObject | IndirectObject)


def _refuse_active_dictionary(dictionary) -> None:
    # Plain dict access: pypdf's own __getitem__ would resolve references outside the bound.
    def name(key: str) -> str | None:
        value = dict.get(dictionary, key)
        return str(value) if isinstance(value, str) else None

    if (ACTIVE_KEYS & set(dictionary.keys()) or name("/S") in ACTIVE_ACTIONS
            or name("/Subtype") in ACTIVE_SUBTYPES or name("/Type") in ACTIVE_TYPES):
        raise DocumentRefused("pdf_active_content")
