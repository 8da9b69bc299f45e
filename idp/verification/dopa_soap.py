"""Old import path of ``idp.verification.dopa.soap``, kept until every caller has moved."""

from idp.verification.dopa.soap import DopaSoapCitizenRegistry

__all__ = ["DopaSoapCitizenRegistry"]
