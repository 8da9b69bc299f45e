"""The collaborators of the app: the clock, mail, and the external systems behind their
interfaces, each from its config table unless ``create_app(adapters=...)`` supplies it.

Keys of ``adapters``: ``clock``, ``mailer``, ``http`` (back-channel logout), ``citizen_registry``
(DOPA), ``staff_directory`` (AD), ``hr_system`` (DPIS), ``document_store``.
"""

from __future__ import annotations

from flask import Flask

from idp import mail
from idp.accounts import pdpa
from idp.clock import SystemClock
from idp.oidc import logout
from idp.verification import applications, service, staff
from idp.verification.ad import staff_directory_from_config
from idp.verification.documents import document_store_from_config
from idp.verification.dopa import citizen_registry_from_config
from idp.verification.dpis import hr_system_from_config


def init_adapters(app: Flask, adapters: dict) -> None:
    config, ext = app.config, app.extensions
    ext["idp.clock"] = adapters.get("clock") or SystemClock()
    ext[mail.EXTENSION] = adapters.get("mailer") or mail.mailer_from_config(config["MAIL"])
    ext[pdpa.EXTENSION] = pdpa.vault_from_config(config["PDPA"], config["SECRET_KEY"])
    if adapters.get("http") is not None:
        ext[logout.HTTP_SESSION] = adapters["http"]
    ext[service.EXTENSION] = adapters.get("citizen_registry") or citizen_registry_from_config(
        config["DOPA"], clock=ext["idp.clock"])
    ext[staff.DIRECTORY] = adapters.get("staff_directory") or staff_directory_from_config(config["AD"])
    ext[staff.HR_SYSTEM] = adapters.get("hr_system") or hr_system_from_config(config["DPIS"])
    ext[applications.STORE] = adapters.get("document_store") or document_store_from_config(
        config["DOCUMENTS"])
