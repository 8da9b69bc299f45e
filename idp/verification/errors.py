"""Errors shared by the adapters of external systems."""

from __future__ import annotations


class ServiceUnavailable(Exception):
    """The external system could not be reached or answered nonsense.

    Distinct from "not found" and "wrong data", which are return values: a system that is
    down is reported as down, never as "not found". Identity checks fail closed on it.
    """

    def __init__(self, system: str, reason: str):
        super().__init__(f"{system} is unavailable: {reason}")
        self.system, self.reason = system, reason
