"""Old import path of ``idp.verification.views.staff``, kept until every caller has moved."""

from idp.verification.views.staff import allow_document_upload, bp, too_large_message

__all__ = ["allow_document_upload", "bp", "too_large_message"]
