"""Old import path of ``idp.verification.views.forms``, kept until every caller has moved."""

from idp.verification.views.forms import *  # noqa: F403
