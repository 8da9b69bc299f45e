"""Why an upload is refused, and what the member should do about it (gettext; Thai in the catalog)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REFUSAL_MESSAGES = {
    "too_large": _l("The file is larger than 10 MB. Please scan at a lower resolution or save as "
                    "a smaller PDF."),
    "empty": _l("The file is empty. Please choose the scanned or photographed document and attach "
                "it again."),
    "type_not_allowed": _l("Only .jpg, .jpeg, .png or .pdf files are accepted. Please scan or "
                           "photograph the document and save it as one of these types."),
    "type_mismatch": _l("The file name's extension does not match what the file contains. Please "
                        "save it again with the right extension (a JPEG photo as .jpg, a PNG image "
                        "as .png, a PDF as .pdf)."),
    "image_invalid": _l("This image cannot be opened: it may be damaged or incompletely saved. "
                        "Please photograph or scan the document again and attach the new file."),
    "image_too_large": _l("The image has too many pixels (more than 50 megapixels). Please resize "
                          "it or scan at a lower resolution."),
    "pdf_invalid": _l("This PDF cannot be opened: it may be damaged or not a standard PDF. Please "
                      "save or scan it as a new PDF, or attach a .jpg or .png image instead."),
    "pdf_encrypted": _l("This PDF is password-protected or encrypted. Please save a copy without a "
                        "password and attach it again."),
    "pdf_active_content": _l("This PDF contains scripts, automatic actions or attached files, "
                             "which are not accepted for security reasons. Please print and scan "
                             "the document, or use “Print to PDF”, and attach the new file."),
}


class DocumentRefused(Exception):
    """The upload is not an acceptable document; ``reason`` is a key of ``REFUSAL_MESSAGES``."""

    def __init__(self, reason: str):
        if reason not in REFUSAL_MESSAGES:
            raise ValueError(f"no message for refusal reason {reason!r}")
        super().__init__(reason)
        self.reason = reason

    def message(self) -> str:
        """What the member should do, in the request's language (gettext)."""
        return str(REFUSAL_MESSAGES[self.reason])
