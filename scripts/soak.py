"""Soak: two `moc-idp serve` instances behind nginx on a scratch PostgreSQL database, under a mix
of sign-ins, SSO hops, refreshes and userinfo calls, while one instance is killed (SIGKILL) and
started again and PostgreSQL is restarted once. Prints what was served and the errors by kind,
then checks the invariants; exits 1 when one fails. Run it through `scripts/soak`."""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration")]

import requests  # noqa: E402
from multi_support import EXAMPLE, HOST, Browser, Cluster, NoCode, cluster_config, public_site, redeem  # noqa: E402

from tests.support.instances import Instance, free_port, moc_idp, start_nginx, wait_for_https, write_config  # noqa: E402
from tests.support.live import scratch_database  # noqa: E402
from tests.support.slapd import write_certificates  # noqa: E402

SERVER = os.environ.get("IDP_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


class Ledger:
    """What the clients saw: outcomes by kind, and each code's successful redemptions."""

    def __init__(self):
        self.outcomes, self.redeemed, self.signups = Counter(), Counter(), []
        self.lock = threading.Lock()

    def note(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.outcomes[f"{kind} {outcome}"] += 1


def client_loop(cluster: Cluster, client, member, ledger: Ledger, deadline: float) -> None:
    """One person's browser and RP: sign in, then SSO hops, refreshes and userinfo, at random."""
    browser, tokens = None, {}
    while time.monotonic() < deadline:
        kind = "sign-in" if browser is None else random.choice(["sso", "refresh", "userinfo"])
        try:
            if kind in ("sign-in", "sso"):
                browser = browser or Browser(cluster, member, "public")
                code, verifier = browser.code(client[0], scope="openid offline_access", prompt="consent")
                answer = redeem(cluster, "public", client, code, verifier)
                if answer.status_code == 200:
                    tokens = answer.json()
                    with ledger.lock:
                        ledger.redeemed[code] += 1
            elif kind == "refresh" and tokens.get("refresh_token"):
                answer = cluster.token("public", client, grant_type="refresh_token",
                                       refresh_token=tokens["refresh_token"])
                tokens = answer.json() if answer.status_code == 200 else {}
            else:
                answer = requests.get(f"{cluster.issuer}/userinfo", verify=str(cluster.ca_file), timeout=30,
                                      headers={"Authorization": f"Bearer {tokens.get('access_token', '')}"})
            ledger.note(kind, str(answer.status_code))
        except NoCode as refusal:  # an error redirect, or a page where a code was expected
            ledger.note(kind, f"no code ({refusal})")
            browser, tokens = None, {}
            time.sleep(0.2)
        except Exception as error:  # counted by kind: the soak goes on through outages
            ledger.note(kind, type(error).__name__)
            browser, tokens = None, {}
            time.sleep(0.2)


def signup_loop(cluster: Cluster, ledger: Ledger, deadline: float) -> None:
    """Accounts made by `moc-idp users create` (a signup committed when it exits 0)."""
    while time.monotonic() < deadline:
        email, password = f"soak-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
        env = {**os.environ, "IDP_CONFIG": str(cluster.config_file)}
        done = subprocess.run([str(Path(sys.executable).with_name("moc-idp")), "users", "create",
                               "--email", email, "--password-stdin"], input=password, text=True,
                              env=env, capture_output=True, timeout=120)
        ledger.note("signup", "ok" if done.returncode == 0 else "failed")
        if done.returncode == 0:
            ledger.signups.append((email, password))
        time.sleep(1)


def chaos(cluster: Cluster, seconds: float, log) -> None:
    """A third of the way: SIGKILL instance A and start it again; two thirds: restart PostgreSQL."""
    time.sleep(seconds / 3)
    log(f"chaos: SIGKILL instance A (pid {cluster.instances['A'].process.pid})")
    cluster.instances["A"].process.send_signal(signal.SIGKILL)
    cluster.instances["A"].process.wait(timeout=30)
    time.sleep(2)
    cluster.instances["A"].start()
    log("chaos: instance A is ready again")
    time.sleep(seconds / 3)
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    log(f"chaos: pg_ctlcluster {version} main restart")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    log("chaos: PostgreSQL restarted")


def invariants(cluster: Cluster, ledger: Ledger) -> dict[str, bool]:
    """The checks after the run, each True when it holds."""
    import sqlalchemy as sa

    from idp.db import db

    with cluster.app.app_context():
        db.engine.dispose()  # connections from before the PostgreSQL restart are gone
        codes_twice = db.session.execute(sa.text(
            "SELECT code_hash FROM oauth_tokens WHERE code_hash IS NOT NULL GROUP BY code_hash "
            "HAVING COUNT(DISTINCT family_id) > 1")).all()
        two_live = db.session.execute(sa.text(
            "SELECT family_id FROM oauth_tokens WHERE refresh_token_hash IS NOT NULL AND "
            "refresh_used_at IS NULL AND revoked_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1")).all()
    moc_idp(cluster.config_file, "audit", "seal", check=False)
    audit = moc_idp(cluster.config_file, "audit", "verify", check=False)
    return {
        "no code redeemed twice (clients)": max(ledger.redeemed.values(), default=0) <= 1,
        "no code redeemed twice (database)": not codes_twice,
        "no refresh family with two live tokens": not two_live,
        "audit chain verifies": audit.returncode == 0,
        f"every committed signup signs in ({len(ledger.signups)})": all(
            _signs_in(cluster, email, password) for email, password in ledger.signups),
    }


def _signs_in(cluster: Cluster, email: str, password: str) -> bool:
    from tests.support.live import Member

    browser = Browser(cluster, Member("", email, password), "public")
    try:
        return browser.sign_in(f"{cluster.issuer}/account").url == f"{cluster.issuer}/account"
    except AssertionError:
        return False


def start(stack: ExitStack, folder: Path) -> Cluster:
    """Database, configuration, keys, the two instances, nginx, and this process's app."""
    from idp import create_app
    from idp.db import db
    from idp.oidc.clients import create_client

    database_url = stack.enter_context(scratch_database(folder, {"IDP_TEST_DATABASE_URL": SERVER}))
    ports = {name: free_port() for name in ("public", "A", "B")}
    (folder / "tls").mkdir()
    write_certificates(folder / "tls", (HOST,))
    config = cluster_config(f"https://{HOST}:{ports['public']}", database_url, REDIS, folder)
    config["RATE_LIMITS"]["LOGIN_PER_ACCOUNT_IP"] = "1000 per minute"
    config_file = write_config(folder / "config.toml", config)
    moc_idp(config_file, "db", "upgrade")
    moc_idp(config_file, "keys", "rotate", "--now")
    instances = {name: Instance(name, ports[name], config_file, folder / f"{name}.log") for name in "AB"}
    for instance in instances.values():
        stack.callback(instance.stop)
        instance.start(workers=2)
    nginx = start_nginx(folder, public_site(EXAMPLE.read_text(), ports, folder / "tls"))
    stack.callback(lambda: (nginx.terminate(), nginx.wait(timeout=10)))
    wait_for_https(f"{config['ISSUER']}/healthz", folder / "tls" / "ca.pem")
    app = create_app(config)
    with app.app_context():
        client = create_client("Soak RP", ["https://rp.example/callback"], trusted=True,
                               scope="openid offline_access")
        db.session.commit()
        app.extensions["soak.client"] = (client.client.client_id, client.client_secret)
    return Cluster(app, instances, ports, folder / "tls" / "ca.pem", folder, config_file, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180, help="how long the load runs (180)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (4)")
    parser.add_argument("--logs", type=Path, help="copy the instances' and nginx's logs here")
    args = parser.parse_args()
    import tempfile

    from test_multi_instance import resolving

    started = time.monotonic()
    log = lambda text: print(f"[{time.monotonic() - started:6.1f}s] {text}", flush=True)  # noqa: E731
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="moc-idp-soak-") as temp:
        stack.enter_context(resolving(HOST))
        cluster = start(stack, Path(temp))
        log(f"two instances behind nginx at {cluster.issuer}; load for {args.seconds:.0f}s")
        ledger, deadline = Ledger(), time.monotonic() + args.seconds
        client = cluster.app.extensions["soak.client"]
        threads = [threading.Thread(target=client_loop,
                                    args=(cluster, client, _member(cluster), ledger, deadline))
                   for _ in range(args.clients)]
        threads += [threading.Thread(target=signup_loop, args=(cluster, ledger, deadline)),
                    threading.Thread(target=chaos, args=(cluster, args.seconds, log))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for found in Path(temp).glob("*.log"):
                shutil.copy(found, args.logs / found.name)
        log(f"requests served: {sum(n for k, n in ledger.outcomes.items() if k.split()[1] in ('200', 'ok'))}")
        for outcome, count in sorted(ledger.outcomes.items()):
            print(f"  {outcome:32} {count}")
        results = invariants(cluster, ledger)
        for check, held in results.items():
            print(f"  {'ok  ' if held else 'FAIL'} {check}")
        return 0 if all(results.values()) else 1


def _member(cluster: Cluster):
    from idp.accounts.service import create_user
    from idp.db import db
    from tests.support.live import Member

    email, password = f"soak-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    with cluster.app.app_context():
        user = create_user(email, password, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
        return Member(user.sub, email, password)


if __name__ == "__main__":
    sys.exit(main())
