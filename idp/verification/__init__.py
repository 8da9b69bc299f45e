"""Verification: identity (DOPA), staff status (AD, DPIS), documents. Never imports ``oidc``.

``init_app(app, adapters)`` wires the package into an app: the external systems (each behind
its bulkhead, from ``adapters`` when given, else from its config table), the upload limit of
the document route, and the blueprints. The rooms: ``dopa/``, ``ad/``, ``dpis/`` (a role and
one module per backend), ``documents/``, the services ``identity`` (owner of the identity
columns), ``staff`` (owner of the staff columns) and ``applications``, and ``views/``.
"""

from __future__ import annotations

from flask import Flask

from idp.verification import applications, identity, staff
from idp.verification.ad import staff_directory_from_config
from idp.verification.documents import document_store_from_config
from idp.verification.dopa import citizen_registry_from_config
from idp.verification.dpis import hr_system_from_config
from idp.verification.resilience import guard
from idp.verification.views import BLUEPRINTS
from idp.verification.views.staff import allow_document_upload


def init_app(app: Flask, adapters) -> None:
    """Wire verification into ``app``; ``adapters`` (``idp.adapters.Adapters``) may supply any
    external system (None: built from its config table)."""
    init_adapters(app, adapters)
    # Before CSRF protection, which parses the form: the upload route's own body limit applies.
    app.before_request(allow_document_upload)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def init_adapters(app: Flask, adapters) -> None:
    """DOPA, AD and DPIS behind their bulkheads, and the document store, into ``app.extensions``."""
    config, ext = app.config, app.extensions
    registry = adapters.citizen_registry or citizen_registry_from_config(
        config["DOPA"], clock=ext["idp.clock"])
    ext[identity.EXTENSION] = guard(registry, "DOPA", config["RESILIENCE"])
    directory = adapters.staff_directory or staff_directory_from_config(config["AD"])
    ext[staff.DIRECTORY] = guard(directory, "AD", config["RESILIENCE"])
    hr = adapters.hr_system or hr_system_from_config(config["DPIS"])
    ext[staff.HR_SYSTEM] = guard(hr, "DPIS", config["RESILIENCE"])
    ext[applications.STORE] = adapters.document_store or document_store_from_config(
        config["DOCUMENTS"])
