"""Errors shared by the adapters of external systems (defined with the outbound client)."""

from __future__ import annotations

from idp.outbound import ServiceUnavailable

__all__ = ["ServiceUnavailable"]
