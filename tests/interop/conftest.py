"""Interop fixtures: a live IdP and demo RP on loopback ports, members, and their browsers."""

from __future__ import annotations

import pytest

from tests.support.live import BrowserSession, live_demo_rp, live_idp


@pytest.fixture(scope="session")
def idp(tmp_path_factory):
    """The IdP, live, with a fresh database and keys."""
    with live_idp(tmp_path_factory.mktemp("live-idp")) as server:
        yield server


@pytest.fixture(scope="session")
def demo_rp(idp):
    """The demo RP, live, registered at the IdP with back-channel logout."""
    with live_demo_rp(idp) as rp:
        yield rp


@pytest.fixture
def member(idp):
    """A new temporary member account."""
    return idp.create_member()


@pytest.fixture
def browser(idp, member):
    """A browser for ``member``, with no cookies yet."""
    with BrowserSession(idp.url, member) as session:
        yield session
