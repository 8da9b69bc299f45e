"""`moc-idp serve`: the production server answers on a loopback port and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from idp.server_config import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, attempts: int = 300) -> requests.Response:
    for _ in range(attempts):
        assert process.poll() is None, process.stderr.read().decode()
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_serve_answers_discovery_and_stops_on_sigterm(migrated, keys_dir):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    moc_idp = Path(sys.executable).with_name("moc-idp")
    env = {**os.environ, "IDP_ISSUER": issuer, "IDP_DATABASE_URL": migrated,
           "IDP_KEYS_DIR": str(keys_dir)}
    process = subprocess.Popen([str(moc_idp), "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", "2"], env=env, stderr=subprocess.PIPE)
    try:
        response = wait_for(f"{issuer}/.well-known/openid-configuration", process)
        assert response.status_code == 200 and response.json()["issuer"] == issuer
        assert requests.get(f"{issuer}/jwks.json", timeout=5).json()["keys"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    log = process.stderr.read().decode()
    assert "Shutting down granian" in log and "Stopped worker-2" in log


def test_the_server_settings_follow_the_options_and_shut_down_gracefully():
    chosen = settings("0.0.0.0", 8443, 4, 8)
    assert (chosen["address"], chosen["port"]) == ("0.0.0.0", 8443)
    assert chosen["workers"] == 4 and chosen["blocking_threads"] == 8
    assert settings()["blocking_threads"] == 2  # [SERVER] THREADS
    assert chosen["workers_kill_timeout"] == 30
    assert chosen["respawn_failed_workers"] is True
