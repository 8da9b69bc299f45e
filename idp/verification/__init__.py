"""Verification: identity (DOPA), staff status (AD, DPIS), documents. Never imports ``oidc``."""
