"""Old import path of ``idp.verification.dopa.file``, kept until every caller has moved."""

from idp.verification.dopa.file import FileCitizenRegistry

__all__ = ["FileCitizenRegistry"]
