"""Old import path of ``idp.verification.dopa.gdx``, kept until every caller has moved."""

from idp.verification.dopa.gdx import GdxCitizenRegistry

__all__ = ["GdxCitizenRegistry"]
