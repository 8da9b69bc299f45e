"""Identity check with DOPA (the Department of Provincial Administration's civil registry).

``CitizenRegistry`` is the role (``role.py``); ``BACKENDS`` maps the ``[DOPA] BACKEND`` config
key to an implementation, built by ``citizen_registry_from_config``:

- ``"gdx"``  ``GdxCitizenRegistry`` (``gdx.py``): the DGA Government Data Exchange REST check.
- ``"soap"`` ``DopaSoapCitizenRegistry`` (``soap.py``): DOPA's own ``CheckCardByLaser`` SOAP 1.2.
- ``"file"`` ``FileCitizenRegistry`` (``file.py``): the stand-in for the embedded default,
  persons from a JSON file; it logs a warning, and ``check_config`` refuses it in production.

Config keys of the ``[DOPA]`` table:

``BACKEND``                  ``"file"`` (default), ``"gdx"`` or ``"soap"``.
``PERSONS_FILE``             file: the JSON persons file (default: ``sample_data/dopa_persons.json``).
``NEEDS_LASER_CODE``         file: whether the stand-in asks for and checks the laser code
                             (default false; the real backends always need it).
``BASE_URL``                 gdx: e.g. ``"https://api.egov.go.th"`` (no trailing path).
``CONSUMER_KEY``             gdx: the Consumer-Key issued by DGA for this agency's app.
``CONSUMER_SECRET``          gdx: the ConsumerSecret issued with it.
``AGENT_ID``                 gdx: the AgentID (the citizen ID of the officer the agency registered).
``TOKEN_RENEW_IDLE_SECONDS`` gdx: renew the token after this much idle time (default 3300: GDX
                             tokens die after 60 idle minutes; renew at 55).
``URL``                      soap: the service URL DOPA gives the agency, e.g.
                             ``"https://idcard.bora.dopa.go.th/CheckCardStatus/CheckCardService.asmx"``.
``TIMEOUT_SECONDS``          gdx, soap: read timeout of each HTTP call (default 5).
``CONNECT_TIMEOUT_SECONDS``  gdx, soap: connect timeout (default: ``TIMEOUT_SECONDS``, at most 3).
``RETRIES``                  gdx, soap: retries after a connection error, a timeout or HTTP
                             502/503/504 (default 2, at most 2); never after a definite answer,
                             and never past the check's total deadline (``[RESILIENCE]``).

The HTTP backends call through ``idp.outbound`` (timeouts, retries, deadline, log redaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from idp import outbound
from idp.verification.dopa.file import FileCitizenRegistry
from idp.verification.dopa.gdx import GdxCitizenRegistry
from idp.verification.dopa.role import (
    CARD_EXPIRED,
    INCOMPLETE,
    MAX_RETRIES,
    MISMATCH,
    RESULTS_BY_CODE,
    SAMPLE_PERSONS_FILE,
    VALID,
    AskingRegistry,
    CheckResult,
    CitizenRegistry,
    DopaQuery,
    PersonToCheck,
    Status,
    answer_without_asking,
    monotonic_seconds,
    query_for,
)
from idp.verification.dopa.soap import DopaSoapCitizenRegistry

__all__ = [
    "BACKENDS", "CARD_EXPIRED", "INCOMPLETE", "MAX_RETRIES", "MISMATCH", "RESULTS_BY_CODE",
    "SAMPLE_PERSONS_FILE", "VALID", "AskingRegistry", "CheckResult", "CitizenRegistry", "DopaQuery",
    "DopaSoapCitizenRegistry", "FileCitizenRegistry", "GdxCitizenRegistry", "PersonToCheck",
    "Status", "answer_without_asking", "citizen_registry_from_config", "monotonic_seconds",
    "query_for",
]

BACKENDS: dict[str, type] = {"gdx": GdxCitizenRegistry, "soap": DopaSoapCitizenRegistry,
                             "file": FileCitizenRegistry}
GDX_KEYS = ("BASE_URL", "CONSUMER_KEY", "CONSUMER_SECRET", "AGENT_ID")


def citizen_registry_from_config(table: dict, *, http: requests.Session | None = None,
                                 clock=None, sleep: Callable[[float], None] = time.sleep
                                 ) -> CitizenRegistry:
    """The registry the ``[DOPA]`` table asks for (keys in this module's docstring).

    ``http`` is the ``requests.Session`` the real backends use (a new one by default);
    ``clock`` a monotonic seconds function or an app ``Clock`` (GDX token idle time).
    """
    backend = table.get("BACKEND", "file")
    if backend not in BACKENDS:
        raise ValueError(f"[DOPA] BACKEND must be one of {sorted(BACKENDS)}, not {backend!r}")
    if backend == "file":
        return FileCitizenRegistry(table.get("PERSONS_FILE") or SAMPLE_PERSONS_FILE,
                                   needs_laser_code=bool(table.get("NEEDS_LASER_CODE", False)))
    missing = [key for key in (GDX_KEYS if backend == "gdx" else ("URL",)) if not table.get(key)]
    if missing:
        raise ValueError(f"[DOPA] BACKEND = {backend!r} needs {', '.join(missing)}")
    options = {"session": http if http is not None else outbound.session(),
               "timeout": _timeout(table), "retries": _retries(table), "sleep": sleep}
    if backend == "soap":
        return DopaSoapCitizenRegistry(table["URL"], **options)
    return GdxCitizenRegistry(
        *(table[key] for key in GDX_KEYS), clock=monotonic_seconds(clock),
        renew_idle_seconds=float(table.get("TOKEN_RENEW_IDLE_SECONDS", 55 * 60)), **options)


def _timeout(table: dict) -> tuple[float, float]:
    read = float(table.get("TIMEOUT_SECONDS", 5))
    return float(table.get("CONNECT_TIMEOUT_SECONDS", min(read, 3.0))), read


def _retries(table: dict) -> int:
    retries = int(table.get("RETRIES", MAX_RETRIES))
    if not 0 <= retries <= MAX_RETRIES:
        raise ValueError(f"[DOPA] RETRIES must be between 0 and {MAX_RETRIES}")
    return retries
