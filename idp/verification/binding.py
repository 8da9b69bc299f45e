"""Old import path of unlinking, now in ``idp.verification.identity``; kept until every caller
has moved."""

from idp.verification.identity import (
    UNLINKED_HOOKS,
    NothingToUnlink,
    UnlinkReport,
    on_identity_unlinked,
    unlink_identity,
)

__all__ = ["UNLINKED_HOOKS", "NothingToUnlink", "UnlinkReport", "on_identity_unlinked",
           "unlink_identity"]
