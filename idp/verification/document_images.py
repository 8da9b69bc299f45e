"""Old import path of ``idp.verification.documents.images``, kept until every caller has moved."""

from idp.verification.documents.images import *  # noqa: F403
