"""The collaborators of the app: the clock, mail, and the external systems behind their
interfaces, each from its config table unless ``create_app(adapters=...)`` supplies it.

Keys of ``adapters``: ``clock``, ``mailer``, ``http`` (back-channel logout), ``citizen_registry``
(DOPA), ``staff_directory`` (AD), ``hr_system`` (DPIS), ``document_store``.
DOPA, AD, DPIS and the document store are wired by ``verification.init_app`` (behind a
bulkhead each: ``verification/resilience.py``).
"""

from __future__ import annotations

from flask import Flask

from idp import mail
from idp.accounts import pdpa
from idp.clock import SystemClock
from idp.oidc import logout


def init_adapters(app: Flask, adapters: dict) -> None:
    config, ext = app.config, app.extensions
    ext["idp.clock"] = adapters.get("clock") or SystemClock()
    ext[mail.EXTENSION] = adapters.get("mailer") or mail.mailer_from_config(config["MAIL"])
    ext[pdpa.EXTENSION] = pdpa.vault_from_config(config["PDPA"], config["SECRET_KEY"])
    if adapters.get("http") is not None:
        ext[logout.HTTP_SESSION] = adapters["http"]
