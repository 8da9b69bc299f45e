"""The collaborators of the app: the clock, mail, and the external systems behind their
interfaces, each from its config table unless ``create_app(adapters=...)`` supplies it.

``Adapters`` names them: ``clock``, ``mailer``, ``http`` (back-channel logout),
``citizen_registry`` (DOPA), ``staff_directory`` (AD), ``hr_system`` (DPIS), ``document_store``.
DOPA, AD, DPIS and the document store are wired by ``verification.init_app``, each external
system behind a bulkhead (``verification/resilience.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from idp import mail
from idp.accounts import pdpa
from idp.clock import SystemClock
from idp.oidc import logout


@dataclass(frozen=True)
class Adapters:
    """Collaborators that replace the ones built from the config; None: build from the config."""

    clock: Any = None  # an object with now()
    mailer: Any = None
    http: Any = None  # a requests-like session, for back-channel logout
    citizen_registry: Any = None  # DOPA: a CitizenRegistry
    staff_directory: Any = None  # AD: a StaffDirectory
    hr_system: Any = None  # DPIS: an HrSystem
    document_store: Any = None

    @classmethod
    def of(cls, given: Adapters | Mapping[str, Any] | None) -> Adapters:
        """``given`` as Adapters; a mapping's keys must be field names (a typo fails loudly)."""
        if isinstance(given, Adapters):
            return given
        return cls(**dict(given or {}))


def init_adapters(app: Flask, adapters: Adapters) -> None:
    """Put each collaborator, given or built from its config table, in ``app.extensions``."""
    config, ext = app.config, app.extensions
    ext["idp.clock"] = adapters.clock or SystemClock()
    ext[mail.EXTENSION] = adapters.mailer or mail.mailer_from_config(config["MAIL"])
    ext[pdpa.EXTENSION] = pdpa.vault_from_config(config["PDPA"], config["SECRET_KEY"])
    if adapters.http is not None:
        ext[logout.HTTP_SESSION] = adapters.http
