"""Configuration: embedded defaults, the TOML file, environment overrides, and the safety check.

Flask's ``from_file`` keeps only upper-case keys, so the file uses upper-case top-level keys and
tables (``SECRET_KEY``, ``[OIDC]``). ``config.example.toml`` documents every key.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"

DEFAULTS: dict = {
    "MODE": "development",
    "REQUIRE_KEYS": True,
    "SECRET_KEY": DEVELOPMENT_SECRET_KEY,
    "ISSUER": "http://127.0.0.1:5000",
    "DATABASE_URL": f"sqlite:///{PROJECT_ROOT / 'var' / 'idp.sqlite3'}",
    "REDIS_URL": "",
    "DEFAULT_LOCALE": "th",
    "LOCALES": ["th", "en"],
    "SESSION": {
        "COOKIE_NAME": "moc_sso",
        "LIFETIME_SECONDS": 8 * 3600,
        "IDLE_SECONDS": 2 * 3600,
    },
    "OIDC": {
        "KEYS_DIR": str(PROJECT_ROOT / "keys"),
        "DEFAULT_SIGNING_ALG": "RS256",
        "KEY_ACTIVATION_DELAY_SECONDS": 3600,
        "CODE_LIFETIME_SECONDS": 60,
        "ACCESS_TOKEN_LIFETIME_SECONDS": 900,
        "ID_TOKEN_LIFETIME_SECONDS": 900,
        "REFRESH_TOKEN_LIFETIME_SECONDS": 30 * 24 * 3600,
        "BACKCHANNEL_TIMEOUT_SECONDS": 3,
        "PENDING_AUTHORIZATION_SECONDS": 30 * 60,
        "MAX_REDIRECT_URIS": 20,
        "KEY_STORE": "folder",
        "KEY_ENCRYPTION_KEYS": {},
        "CURRENT_KEY_ENCRYPTION_KEY": "",
    },
    "RATE_LIMITS": {
        "LOGIN_PER_ACCOUNT": "50 per hour",
        "LOGIN_PER_ACCOUNT_IP": "5 per 15 minutes",
        "LOGIN_PER_IP": "30 per 15 minutes",
        "TOKEN_PER_CLIENT": "500 per second",
        "MFA_PER_ACCOUNT": "5 per 15 minutes",
        "SIGNUP_PER_IP": "10 per hour",
        "PASSWORD_RESET_PER_IP": "10 per hour",
        "IDENTITY_CHECK_PER_ACCOUNT": "5 per hour",
        "IDENTITY_CHECK_PER_CITIZEN_ID": "20 per day",
        "IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID": "3 per day",
        "STAFF_CHECK_PER_ACCOUNT": "5 per hour",
        "DOCUMENT_UPLOAD_PER_ACCOUNT": "5 per day",
        "PASSWORD_CHANGE_PER_ACCOUNT": "5 per 15 minutes",
    },
    "MEMBERSHIP": {"TEMPORARY_DAYS": 60},
    "ADMIN": {
        "IDLE_SECONDS": 30 * 60,
        "STEP_UP_SECONDS": 5 * 60,
        "TOTP_ISSUER": "MOC Account",
    },
    "MAIL": {
        "BACKEND": "console",
        "FROM": "MOC Account <no-reply@localhost>",
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 587,
        "SMTP_SECURITY": "starttls",
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_TIMEOUT_SECONDS": 10,
        "SMTP_CA_FILE": "",
        "SEND_IN_BACKGROUND": True,
        "SEND_TRIES": 3,
        "RETRY_WAIT_SECONDS": 1,
        "RETRY_AFTER_SECONDS": 300,
        "MAX_ATTEMPTS": 10,
    },
    "PDPA": {
        "ENCRYPTION_KEYS": {},
        "CURRENT_KEY": "",
        "HMAC_KEY": "",
    },
    "DOPA": {
        "BACKEND": "file",
        "PERSONS_FILE": str(PROJECT_ROOT / "idp" / "verification" / "sample_data" / "dopa_persons.json"),
        "NEEDS_LASER_CODE": False,
        "TIMEOUT_SECONDS": 5,
    },
    "AD": {
        "BACKEND": "file",
        "ENTRIES_FILE": str(PROJECT_ROOT / "idp" / "verification" / "sample_data" / "ad_entries.json"),
    },
    "DPIS": {
        "BACKEND": "file",
        "PEOPLE_FILE": str(PROJECT_ROOT / "idp" / "verification" / "sample_data" / "dpis_people.json"),
    },
    "DOCUMENTS": {
        "BACKEND": "filesystem",
        "FOLDER": str(PROJECT_ROOT / "var" / "documents"),
        "MAX_BYTES": 10 * 1024 * 1024,
        "RETENTION_DAYS": 90,
        "MAX_KEPT_PER_MEMBER": 10,
    },
    "ACCOUNTS": {
        "REMINDER_DAYS": [7, 1],
        "EMAIL_LINK_LIFETIME_SECONDS": 3 * 24 * 3600,
        "PASSWORD_RESET_LIFETIME_SECONDS": 3600,
        "SIGNUP_RETRY_SECONDS": 3600,
    },
    "PASSWORDS": {
        # argon2id (RFC 9106); OWASP's first choice: m=19 MiB, t=2, p=1.
        "TIME_COST": 2,
        "MEMORY_COST_KIB": 19456,
        "PARALLELISM": 1,
    },
    "SERVER": {
        "HOST": "127.0.0.1",
        "PORT": 5000,
        "WORKERS": 2,
        "THREADS": 2,
        "GRACEFUL_TIMEOUT_SECONDS": 30,
        "KEYS_RECHECK_SECONDS": 5,
        "CLIENTS_RECHECK_SECONDS": 5,
        "METADATA_MAX_AGE_SECONDS": 300,
    },
    "DATABASE": {
        "POOL_SIZE": 10,
        "MAX_OVERFLOW": 10,
        "SQLITE_BUSY_TIMEOUT_SECONDS": 30,
    },
    "AUDIT": {
        "SEAL_IN_BACKGROUND": True,
        "SEAL_DELAY_SECONDS": 0.2,
        "SEAL_BATCH_SIZE": 500,
    },
    "PROXY": {"TRUSTED_HOPS": 0, "TRUSTED_NETWORKS": []},
    "RESILIENCE": {
        "FAILURES_TO_OPEN": 5,
        "OPEN_SECONDS": 30,
        "DEADLINE_SECONDS": 8,
        "CONCURRENT_CALLS": 1,
    },
    "SECURITY": {
        "HSTS": "max-age=31536000; includeSubDomains",
        "HOST_PREFIX_COOKIES": True,
        "RETRY_AFTER_SECONDS": 30,
    },
    "HEALTH": {"CHECK_TIMEOUT_SECONDS": 2},
    "METRICS": {
        "ENABLED": True,
        "ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"],
        "TOKEN": "",
        "REFRESH_SECONDS": 60,
    },
    "LOGGING": {
        "FORMAT": "",
        "LEVEL": "WARNING",
        "ACCESS_LOG": True,
    },
}

# Tables naming an external system, and the backend of each that is only a stand-in.
STAND_IN_BACKENDS = {"DOPA": "file", "AD": "file", "DPIS": "file", "MAIL": "console"}

ENVIRONMENT_OVERRIDES = {
    "IDP_ISSUER": ("ISSUER",),
    "IDP_DATABASE_URL": ("DATABASE_URL",),
    "IDP_SECRET_KEY": ("SECRET_KEY",),
    "IDP_KEYS_DIR": ("OIDC", "KEYS_DIR"),
    "IDP_REDIS_URL": ("REDIS_URL",),
    "IDP_MODE": ("MODE",),
}


class ConfigError(RuntimeError):
    """The configuration is unsafe or invalid; ``problems`` lists every reason at once."""

    def __init__(self, problems: list[str]):
        super().__init__("refusing to start:\n  - " + "\n  - ".join(problems))
        self.problems = problems


def load_config(overrides: dict | None = None, environ=os.environ) -> dict:
    """Defaults, then the file named by IDP_CONFIG, then IDP_* variables, then ``overrides``."""
    config = copy.deepcopy(DEFAULTS)
    path = environ.get("IDP_CONFIG")
    if path:
        with open(path, "rb") as handle:
            merge(config, {k: v for k, v in tomllib.load(handle).items() if k.isupper()})
    for variable, keys in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            merge(config, nest(keys, environ[variable]))
    merge(config, overrides or {})
    return config


def merge(base: dict, extra: dict) -> dict:
    """Merge ``extra`` into ``base``; tables merge key by key, other values replace."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def nest(keys: tuple[str, ...], value) -> dict:
    """``value`` nested under ``keys`` (``("A", "B"), 1`` gives ``{"A": {"B": 1}}``)."""
    result = value
    for key in reversed(keys):
        result = {key: result}
    return result


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is localhost or a loopback address (127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_stand_ins(config: dict) -> list[str]:
    """The external systems this configuration serves from a stand-in."""
    return [
        f"[{table}] BACKEND = {backend!r}"
        for table, backend in STAND_IN_BACKENDS.items()
        if config.get(table, {}).get("BACKEND") == backend
    ]


# argon2id's own floor (RFC 9106 section 3.1, https://www.rfc-editor.org/rfc/rfc9106#section-3.1:
# t >= 1, p >= 1, m >= 8p KiB), and the least work of OWASP's recommended argon2id settings
# (m=7168 KiB with t=5), below which production refuses to hash passwords.
LEAST_PASSWORD_WORK = 7168 * 5


def password_problems(config: dict) -> list[str]:
    """Why ``[PASSWORDS]`` cannot hash (any mode), or hashes too cheaply (production)."""
    settings = config["PASSWORDS"]
    t, m, p = (settings.get(key) for key in ("TIME_COST", "MEMORY_COST_KIB", "PARALLELISM"))
    if not all(type(value) is int and value >= 1 for value in (t, m, p)) or m < 8 * p:
        return ["[PASSWORDS] needs whole numbers TIME_COST >= 1, PARALLELISM >= 1 and "
                "MEMORY_COST_KIB >= 8 x PARALLELISM (RFC 9106)"]
    if config["MODE"] == "production" and m * t < LEAST_PASSWORD_WORK:
        return [f"[PASSWORDS] MEMORY_COST_KIB x TIME_COST = {m * t} is below the least OWASP "
                f"argon2id setting ({LEAST_PASSWORD_WORK}: 7168 KiB x 5)"]
    return []


# Production checks of the tables a package owns ([PDPA], [OIDC]'s key encryption): the package
# registers its own at import, so this module never imports the rooms above it.
_TABLE_CHECKS: list[Callable[[dict], list[str]]] = []


def table_check(check: Callable[[dict], list[str]]) -> Callable[[dict], list[str]]:
    """Register ``check(config) -> problems``, run by ``check_config`` in production mode."""
    if check not in _TABLE_CHECKS:
        _TABLE_CHECKS.append(check)
    return check


def check_config(config: dict, *, keys_present: bool) -> list[str]:
    """Every reason this configuration must not run; empty when it may."""
    problems = []
    issuer = config["ISSUER"]
    if urlsplit(issuer).scheme not in ("http", "https") or not urlsplit(issuer).hostname:
        problems.append(f"ISSUER {issuer!r} is not an absolute http(s) URL")
    if config["MODE"] not in ("development", "production"):
        problems.append(f"MODE must be 'development' or 'production', not {config['MODE']!r}")
    problems += password_problems(config)
    if config["MODE"] != "production":
        return problems
    if config["SECRET_KEY"] in ("", DEVELOPMENT_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters")
    if not issuer.startswith("https://") and not is_loopback_url(issuer):
        problems.append(f"ISSUER {issuer!r} must use https outside loopback")
    if urlsplit(issuer).query or urlsplit(issuer).fragment:
        problems.append("ISSUER must not have a query or fragment")
    for name in configured_stand_ins(config):
        problems.append(f"{name} is a stand-in, which production mode refuses")
    for check in _TABLE_CHECKS:
        problems += check(config)
    if not keys_present:
        problems.append(
            f"no signing keys in {config['OIDC']['KEYS_DIR']} (create them: moc-idp keys rotate)"
        )
    return problems
