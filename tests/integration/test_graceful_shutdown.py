"""SIGTERM to `moc-idp serve` while a request is in flight: the request completes with its usual
answer, then the server exits 0 (what systemd's stop and a rolling restart rely on).

The slow request is a real one: an identity check whose DOPA (a GDX stand-in on loopback) holds
its answer until the test lets it go, so the signal is sent while the check is surely running.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time

from tests.support.dopa_servers import Answer, GdxServer
from tests.support.flows import csrf_token
from tests.support.instances import Instance, free_port, write_config
from tests.support.live import BrowserSession, Member

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528", "laser_code": "JT1234567890"}


class HeldGdx(GdxServer):
    """GDX whose check waits for ``release`` before saying the person matches."""

    def __init__(self):
        super().__init__()
        self.arrived, self.release = threading.Event(), threading.Event()

    def check(self, request):
        self.arrived.set()
        self.release.wait(timeout=60)
        return Answer(200, b'{"Result": true}', "application/json")


def make_member(database_url: str, keys_dir) -> Member:
    from idp import create_app
    from idp.accounts.service import create_user
    from idp.db import db

    app = create_app({"DATABASE_URL": database_url, "OIDC": {"KEYS_DIR": str(keys_dir)}})
    email, password = f"term-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    with app.app_context():
        user = create_user(email, password, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
        member = Member(user.sub, email, password)
        db.engine.dispose()
    return member


def served(tmp_path, migrated, keys_dir, dopa: GdxServer) -> Instance:
    port = free_port()
    config = {"ISSUER": f"http://127.0.0.1:{port}", "DATABASE_URL": migrated,
              "SECRET_KEY": secrets.token_urlsafe(32), "OIDC": {"KEYS_DIR": str(keys_dir)},
              "DOPA": {"BACKEND": "gdx", "BASE_URL": dopa.url, "CONSUMER_KEY": dopa.consumer_key,
                       "CONSUMER_SECRET": dopa.consumer_secret, "AGENT_ID": dopa.agent_id,
                       "TIMEOUT_SECONDS": 60},
              "RESILIENCE": {"DEADLINE_SECONDS": 60}}
    config_file = write_config(tmp_path / "config.toml", config)
    return Instance("term", port, config_file, tmp_path / "serve.log")


def wait_until(predicate, rounds: int = 300) -> bool:
    for _ in range(rounds):
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(tmp_path, migrated, keys_dir):
    dopa = HeldGdx()
    instance = served(tmp_path, migrated, keys_dir, dopa).start(workers=1)
    try:
        browser = BrowserSession(instance.url, make_member(migrated, keys_dir))
        browser.sign_in(f"{instance.url}/account")
        page = browser.get(f"{instance.url}/verify/identity").text
        answers = []
        check = threading.Thread(target=lambda: answers.append(browser.post(
            f"{instance.url}/verify/identity", data={**SOMCHAI, "csrf_token": csrf_token(page)},
            allow_redirects=False, timeout=90)))
        check.start()
        reached = dopa.arrived.wait(timeout=30)
        assert reached, [(a.status_code, a.text[:2000]) for a in answers]
        instance.process.send_signal(signal.SIGTERM)  # while the check waits on DOPA
        assert wait_until(lambda: "Stopping worker-1" in instance.log()), instance.log()
        dopa.release.set()
        check.join(timeout=90)
        assert instance.process.wait(timeout=60) == 0, instance.log()
    finally:
        dopa.release.set()
        instance.stop()
        dopa.stop()
    [answer] = answers
    assert answer.status_code == 302, answer.text  # the usual answer: on to the next step
    assert len(dopa.checks()) == 1
