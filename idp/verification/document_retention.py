"""Old import path of ``idp.verification.documents.retention``, kept until every caller has moved."""

from idp.verification.documents.retention import *  # noqa: F403
