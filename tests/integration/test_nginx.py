"""The nginx example in docs/deploy/nginx.conf, run for real in front of a live IdP with
``[PROXY] TRUSTED_HOPS = 1``: the IdP sees each client's own address, and a client's spoofed
X-Forwarded-For is not taken for its address."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.live import BrowserSession, live_idp
from tests.support.slapd import free_port, write_certificates

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx.conf"


class FromAddress(HTTPAdapter):
    """Connections from a chosen loopback address: a second client on the same machine."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def site_config(idp_port: int, port: int, folder: Path) -> str:
    """The example with this test's ports, certificate and host name."""
    text = EXAMPLE.read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{free_port()};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
                     ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{idp_port} "),
                     ("account.moc.go.th", "localhost"),
                     ("/etc/ssl/moc/localhost.crt", str(folder / "server.pem")),
                     ("/etc/ssl/moc/localhost.key", str(folder / "server.key"))):
        assert old in text, old
        text = text.replace(old, new)
    # One instance here: the example's second upstream server goes (test_multi_instance has two).
    return "\n".join(line for line in text.splitlines() if "server 127.0.0.1:8001" not in line)


def start_nginx(folder: Path, site: str) -> subprocess.Popen:
    (folder / "site.conf").write_text(site)
    temp = "".join(f"{kind}_temp_path {folder / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\ndaemon off;\n"
        f"events {{}}\nhttp {{\naccess_log {folder / 'access.log'};\n{temp}"
        f"include {folder / 'site.conf'};\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                             "-e", str(folder / "error.log")])


def test_the_documented_nginx_example_passes_the_real_client_and_https(tmp_path):
    certificates = tmp_path / "tls"
    certificates.mkdir()
    write_certificates(certificates)
    port = free_port()
    public = f"https://localhost:{port}"
    with live_idp(tmp_path, settings={"ISSUER": public, "PROXY": {"TRUSTED_HOPS": 1}}) as idp:
        idp_port = int(idp.url.rsplit(":", 1)[1])
        nginx = start_nginx(tmp_path, site_config(idp_port, port, certificates))
        try:
            _wait_for(public, certificates / "ca.pem")
            session = BrowserSession(public, idp.create_member())
            session.verify, session.trust_env = str(certificates / "ca.pem"), False
            session.mount("https://", FromAddress("127.0.0.5"))
            session.headers.update({"Referer": f"{public}/login", "X-Forwarded-For": "6.6.6.6"})
            assert session.sign_in(f"{public}/account").url == f"{public}/account"
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
        with idp.app.app_context():
            from idp.audit import events

            # The client's own address, not nginx's (127.0.0.1) nor the one it claimed.
            assert [e.ip for e in events("account:login:success")] == ["127.0.0.5"]


def _wait_for(url: str, ca_file: Path) -> None:
    for _ in range(100):
        try:
            requests.get(f"{url}/login", verify=str(ca_file), timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail("nginx did not start")
