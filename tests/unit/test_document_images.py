"""Images are stored as fresh pixels: no EXIF, XMP, ICC profile, text chunk or comment."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from idp.verification.documents.checks import check_upload
from idp.verification.documents.images import without_metadata


def cleaned(content: bytes, filename: str):
    checked = check_upload(io.BytesIO(content), filename, None)
    clean = without_metadata(checked)
    data = clean.read_bytes()
    return clean, data, Image.open(io.BytesIO(data))


def test_png_text_chunks_and_icc_profile_are_dropped_and_transparency_kept():
    from PIL import ImageCms

    image = Image.new("RGBA", (20, 10), (10, 20, 30, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 13.75N 100.5E")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, icc_profile=icc)
    clean, data, reopened = cleaned(buffer.getvalue(), "scan.png")
    assert b"GPS" not in data and b"xmpmeta" not in data and b"iCCP" not in data
    assert reopened.mode == "RGBA" and reopened.getpixel((0, 0)) == (10, 20, 30, 128)
    assert clean.size == len(data) and clean.content_type == "image/png"


def test_the_digest_and_size_describe_the_new_bytes():
    import hashlib

    image = Image.new("CMYK", (16, 16), (0, 50, 100, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", comment=b"scanner serial 1234")
    clean, data, reopened = cleaned(buffer.getvalue(), "scan.jpg")
    assert clean.sha256 == hashlib.sha256(data).hexdigest()
    assert b"serial" not in data and reopened.mode == "RGB"


def test_a_pdf_is_left_as_it_is():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    checked = check_upload(io.BytesIO(buffer.getvalue()), "form.pdf", None)
    assert without_metadata(checked) is checked
