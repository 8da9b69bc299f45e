"""The collaborators of the app: the clock, mail, and the external systems behind their
interfaces, each from its config table unless ``create_app(adapters=...)`` supplies it.

Keys of ``adapters``: ``clock``, ``mailer``, ``http`` (back-channel logout), ``citizen_registry``
(DOPA), ``staff_directory`` (AD), ``hr_system`` (DPIS), ``document_store``.
DOPA, AD and DPIS, supplied or built, sit behind a bulkhead (``verification/resilience.py``).
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
from idp.verification.resilience import guard


def init_adapters(app: Flask, adapters: dict) -> None:
    config, ext = app.config, app.extensions
    ext["idp.clock"] = adapters.get("clock") or SystemClock()
    ext[mail.EXTENSION] = adapters.get("mailer") or mail.mailer_from_config(config["MAIL"])
    ext[pdpa.EXTENSION] = pdpa.vault_from_config(config["PDPA"], config["SECRET_KEY"])
    if adapters.get("http") is not None:
        ext[logout.HTTP_SESSION] = adapters["http"]
    registry = adapters.get("citizen_registry") or citizen_registry_from_config(
        config["DOPA"], clock=ext["idp.clock"])
    ext[service.EXTENSION] = guard(registry, "DOPA", config["RESILIENCE"])
    directory = adapters.get("staff_directory") or staff_directory_from_config(config["AD"])
    ext[staff.DIRECTORY] = guard(directory, "AD", config["RESILIENCE"])
    hr = adapters.get("hr_system") or hr_system_from_config(config["DPIS"])
    ext[staff.HR_SYSTEM] = guard(hr, "DPIS", config["RESILIENCE"])
    ext[applications.STORE] = adapters.get("document_store") or document_store_from_config(
        config["DOCUMENTS"])
