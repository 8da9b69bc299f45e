"""The accounts pages, one module per area, each on its own blueprint: sign-in and the account
page (``accounts``), signup and membership (``signup``), passwords (``passwords``)."""

from __future__ import annotations

from idp.accounts.views import passwords, sign_in, signup

BLUEPRINTS = (sign_in.bp, signup.bp, passwords.bp)
