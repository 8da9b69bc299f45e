"""The PDF part of the upload checks: a real parse with pypdf, refusing active content."""

from __future__ import annotations

import re
from typing import BinaryIO

from idp.verification.documents.refusal import DocumentRefused

CHUNK_BYTES = 64 * 1024  # read in pieces: never the whole upload at once

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


def check_pdf(spool: BinaryIO) -> None:
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
        """The PDF name ``value`` as text."""
        value = dict.get(dictionary, key)
        return str(value) if isinstance(value, str) else None

    if (ACTIVE_KEYS & set(dictionary.keys()) or name("/S") in ACTIVE_ACTIONS
            or name("/Subtype") in ACTIVE_SUBTYPES or name("/Type") in ACTIVE_TYPES):
        raise DocumentRefused("pdf_active_content")
