"""The verification pages, one blueprint module per area: ``identity`` (the DOPA check, seed
3.4) and ``staff`` (the personnel method and the document path, seed 3.5); ``forms`` beside them.

The identity module's names are re-exported here, the old import path of ``views.py``.
"""

from __future__ import annotations

from idp.verification.views import identity, staff
from idp.verification.views.identity import (
    MESSAGES,
    STATUS_CODES,
    bp,
    continue_after_verification,
    person_from_form,
)

BLUEPRINTS = (identity.bp, staff.bp)

__all__ = ["BLUEPRINTS", "MESSAGES", "STATUS_CODES", "bp", "continue_after_verification",
           "person_from_form"]
