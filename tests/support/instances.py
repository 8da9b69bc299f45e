"""Production servers for multi-instance tests and the soak script: `moc-idp serve` processes
sharing one configuration file (one database, one Redis), and nginx in front of them.

Each instance is a real Granian server (moc-idp serve) with its own port; its standard error goes
to a file, so a chatty server never blocks on a full pipe and a test can read what it logged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

LOOPBACK = "127.0.0.1"
MOC_IDP = Path(sys.executable).with_name("moc-idp")


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --- the configuration file ----------------------------------------------------------------

def toml_value(value) -> str:
    """``value`` as TOML: JSON's strings, numbers, booleans and arrays are TOML's too."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    return json.dumps(value)


def toml_text(config: dict) -> str:
    """A configuration dict (top-level keys and tables of keys) as a TOML file."""
    lines = [f"{key} = {toml_value(value)}" for key, value in config.items()
             if not isinstance(value, dict)]
    for table, values in config.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]"] + [f"{key} = {toml_value(item)}" for key, item in values.items()]
    return "\n".join(lines) + "\n"


def write_config(path: Path, config: dict) -> Path:
    """Write ``config`` where IDP_CONFIG can name it."""
    path.write_text(toml_text(config))
    return path


def moc_idp(config_file: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a ``moc-idp`` command against the configuration file."""
    env = {**os.environ, "IDP_CONFIG": str(config_file)}
    result = subprocess.run([str(MOC_IDP), *args], env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"moc-idp {' '.join(args)}: {result.stdout}{result.stderr}")
    return result


# --- instances -----------------------------------------------------------------------------

@dataclass
class Instance:
    """One `moc-idp serve` process on a loopback port."""

    name: str
    port: int
    config_file: Path
    log_file: Path
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, *, workers: int = 1) -> Instance:
        """Start the server (its log appended to ``log_file``) and wait until it is ready."""
        env = {**os.environ, "IDP_CONFIG": str(self.config_file), **self.env}
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [str(MOC_IDP), "serve", "--host", LOOPBACK, "--port", str(self.port),
                 "--workers", str(workers)], env=env, stdout=log, stderr=log)
        self.wait_ready()
        return self

    def wait_ready(self, attempts: int = 600) -> None:
        """Until /readyz answers 200 (database, Redis and an active key); fails if it exits."""
        for _ in range(attempts):
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never became ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


# --- nginx ---------------------------------------------------------------------------------

def start_nginx(folder: Path, site: str, *, log_format: str = "") -> subprocess.Popen:
    """nginx in the foreground with ``site`` as its only site; files under ``folder``.
    ``log_format`` (nginx variables) replaces the access log's default line."""
    (folder / "site.conf").write_text(site)
    temp = "".join(f"{kind}_temp_path {folder / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    access = (f"log_format test '{log_format}';\naccess_log {folder / 'access.log'} test;\n"
              if log_format else f"access_log {folder / 'access.log'};\n")
    (folder / "nginx.conf").write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\ndaemon off;\n"
        f"events {{}}\nhttp {{\n{access}{temp}include {folder / 'site.conf'};\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                             "-e", str(folder / "error.log")])


def wait_for_https(url: str, ca_file: Path, attempts: int = 100) -> None:
    """Until ``url`` answers over TLS (nginx has started)."""
    for _ in range(attempts):
        try:
            requests.get(url, verify=str(ca_file), timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")
