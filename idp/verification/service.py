"""Old import path of the identity check, now ``idp.verification.identity``; kept until every
caller has moved."""

from idp.verification.identity import (
    EXTENSION,
    IdentityAlreadyBound,
    IdentityOutcome,
    IdentityStatus,
    bound_elsewhere,
    mark_verified,
    registry,
    reset_attempts,
    verify_identity,
)

__all__ = ["EXTENSION", "IdentityAlreadyBound", "IdentityOutcome", "IdentityStatus",
           "bound_elsewhere", "mark_verified", "registry", "reset_attempts", "verify_identity"]
