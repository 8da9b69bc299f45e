"""A small relying party that signs in with MOC Account (the demo, and the interop tests' RP)."""

from clients.demo_rp.app import create_app

__all__ = ["create_app"]
