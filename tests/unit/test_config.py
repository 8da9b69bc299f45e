"""Configuration loading and the production safety check."""

from __future__ import annotations

from idp.config import DEFAULTS, check_config, load_config


def production(**changes):
    from idp.accounts.pdpa import generate_key

    pdpa = {"ENCRYPTION_KEYS": {"k1": generate_key()}, "CURRENT_KEY": "k1", "HMAC_KEY": generate_key()}
    settings = {"MODE": "production", "SECRET_KEY": "s" * 40, "ISSUER": "https://account.moc.go.th",
                "MAIL": {"BACKEND": "smtp"}, "DOPA": {"BACKEND": "gdx"}, "AD": {"BACKEND": "ldap"},
                "DPIS": {"BACKEND": "sql"}, "PDPA": pdpa}
    config = load_config({**settings, **changes}, environ={})
    return config


def test_safe_production_config_has_no_problems():
    assert check_config(production(), keys_present=True) == []


def test_production_lists_every_problem_at_once():
    config = production(SECRET_KEY=DEFAULTS["SECRET_KEY"], ISSUER="http://account.moc.go.th",
                        MAIL={"BACKEND": "console"})
    problems = check_config(config, keys_present=False)
    assert len(problems) == 4, problems
    assert any("SECRET_KEY" in p for p in problems)
    assert any("https" in p for p in problems)
    assert any("MAIL" in p and "stand-in" in p for p in problems)
    assert any("signing keys" in p for p in problems)


def test_production_refuses_missing_or_malformed_pdpa_keys():
    problems = check_config(production(PDPA={"ENCRYPTION_KEYS": {"k1": "c2hvcnQ"},
                                              "CURRENT_KEY": "k2", "HMAC_KEY": ""}),
                            keys_present=True)
    assert len(problems) == 3 and all("[PDPA]" in p for p in problems)


def test_dopa_stand_in_is_refused_in_production():
    problems = check_config(production(DOPA={"BACKEND": "file"}), keys_present=True)
    assert problems == ["[DOPA] BACKEND = 'file' is a stand-in, which production mode refuses"]


def test_loopback_issuer_may_use_http_in_production():
    assert check_config(production(ISSUER="http://127.0.0.1:8000"), keys_present=True) == []


def test_development_mode_accepts_the_embedded_defaults():
    assert check_config(load_config(environ={}), keys_present=False) == []


def test_environment_variables_override_the_file(tmp_path):
    path = tmp_path / "idp.toml"
    path.write_text('ISSUER = "https://from-file.example"\n[OIDC]\nKEYS_DIR = "/file/keys"\n'
                    'CODE_LIFETIME_SECONDS = 30\n')
    config = load_config(environ={"IDP_CONFIG": str(path), "IDP_KEYS_DIR": "/env/keys",
                                  "IDP_DATABASE_URL": "postgresql://db/idp"})
    assert config["ISSUER"] == "https://from-file.example"
    assert config["OIDC"]["KEYS_DIR"] == "/env/keys"
    assert config["OIDC"]["CODE_LIFETIME_SECONDS"] == 30
    assert config["OIDC"]["ACCESS_TOKEN_LIFETIME_SECONDS"] == 900  # table merged, not replaced
    assert config["DATABASE_URL"] == "postgresql://db/idp"


def test_lower_case_keys_in_the_file_are_ignored(tmp_path):
    path = tmp_path / "idp.toml"
    path.write_text('issuer = "https://ignored.example"\n')
    assert load_config(environ={"IDP_CONFIG": str(path)})["ISSUER"] == DEFAULTS["ISSUER"]


def test_example_config_file_documents_a_loadable_configuration():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    config = load_config(environ={"IDP_CONFIG": str(example)})
    assert set(DEFAULTS) <= set(config)
    for table, defaults in DEFAULTS.items():
        if isinstance(defaults, dict):
            assert set(defaults) <= set(config[table]), table


def test_password_parameters_argon2_cannot_use_are_refused_in_every_mode():
    for bad in ({"TIME_COST": 0}, {"MEMORY_COST_KIB": 4}, {"PARALLELISM": "2"}):
        config = load_config({"PASSWORDS": bad}, environ={})
        assert any("[PASSWORDS]" in p for p in check_config(config, keys_present=True)), bad


def test_production_refuses_password_hashing_cheaper_than_owasp_allows():
    cheap = production(PASSWORDS={"TIME_COST": 1, "MEMORY_COST_KIB": 8192, "PARALLELISM": 1})
    assert [p for p in check_config(cheap, keys_present=True) if "[PASSWORDS]" in p]
    assert check_config(production(PASSWORDS={"TIME_COST": 5, "MEMORY_COST_KIB": 7168}),
                        keys_present=True) == []
