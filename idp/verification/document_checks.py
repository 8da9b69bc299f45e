"""Old import path of ``idp.verification.documents.checks``, kept until every caller has moved."""

from idp.verification.documents.checks import *  # noqa: F403
