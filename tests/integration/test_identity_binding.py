"""One identity per account, for good, and the citizen ID as something nobody can probe: each
test tries what an attacker would, through the identity pages."""

from __future__ import annotations

import json

import pytest

from tests.support.flows import Flow, csrf_token

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}      # in AD (enabled) and in DPIS
SOMYING = {"citizen_id": "3100500123458", "first_name_th": "สมหญิง", "last_name_th": "รักเรียน",
           "birthdate": "02/11/2515"}      # in DPIS only
WRONG_NAME = {**SOMCHAI, "first_name_th": "สมศักดิ์"}
ALREADY_LINKED = "already linked to another MOC Account"


def member(app, make_user, email, person=SOMCHAI):
    make_user(email=email, given_name_th=person["first_name_th"], family_name_th=person["last_name_th"])
    web = app.test_client()
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Flow(web, "x").sign_in(email=email)
    return web


def check(web, person, path="/verify/identity"):
    page = web.get(path).get_data(as_text=True)
    return web.post(path, data={**person, "csrf_token": csrf_token(page)})


def stored(app, email):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return {c.name: getattr(user, c.name) for c in user.__table__.columns}


def tags(app, prefix):
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events(prefix)]


def test_a_verified_account_cannot_rebind_itself_to_another_person(app, make_user):
    web = member(app, make_user, "a@example.com")
    check(web, SOMCHAI)
    before = stored(app, "a@example.com")
    response = check(web, SOMYING)
    assert response.status_code == 409
    assert "already verified as another person" in response.get_data(as_text=True)
    after = stored(app, "a@example.com")
    for column in ("citizen_id_hash", "citizen_id_encrypted", "citizen_id_masked",
                   "verified_given_name_th", "verified_family_name_th", "sub"):
        assert after[column] == before[column], column
    assert "verification:dopa:rebind_refused" in tags(app, "verification:dopa")


def test_the_same_citizen_id_may_verify_again_and_updates_the_names(app, make_user, tmp_path):
    from idp.verification.dopa.file import FileCitizenRegistry

    web = member(app, make_user, "a@example.com")
    check(web, SOMCHAI)
    renamed = tmp_path / "dopa.json"
    renamed.write_text(json.dumps({"persons": [{**SOMCHAI, "last_name_th": "ใจงาม",
                                                "birthdate": "1985-03-14"}]}))
    app.extensions["idp.citizen_registry"] = FileCitizenRegistry(renamed)
    response = check(web, {**SOMCHAI, "last_name_th": "ใจงาม"})
    assert response.status_code == 302
    assert stored(app, "a@example.com")["verified_family_name_th"] == "ใจงาม"


def test_a_staff_member_rebinding_to_someone_else_keeps_neither_badge_nor_a_freed_id(app, make_user):
    """The reported attack: A (staff through AD) re-verifies as a person not in AD, and B then
    takes A's freed citizen ID and the AD entry with it."""
    a = member(app, make_user, "a@example.com")
    check(a, SOMCHAI, "/verify/staff")
    assert stored(app, "a@example.com")["staff_verified_by"] == "ad"
    check(a, SOMYING)
    b = member(app, make_user, "b@example.com")
    response = check(b, SOMCHAI, "/verify/staff")
    assert ALREADY_LINKED in response.get_data(as_text=True)
    assert stored(app, "b@example.com")["staff_status"] == "none"
    assert stored(app, "b@example.com")["identity_verified"] is False


def test_already_linked_is_said_only_after_the_whole_card_matches(app, make_user):
    owner = member(app, make_user, "owner@example.com")
    check(owner, SOMCHAI)
    prober = member(app, make_user, "prober@example.com")
    probe = check(prober, WRONG_NAME)
    assert probe.status_code == 422 and ALREADY_LINKED not in probe.get_data(as_text=True)
    matched = check(prober, SOMCHAI)
    assert matched.status_code == 422 and ALREADY_LINKED in matched.get_data(as_text=True)
    assert "verification:dopa:citizen_id_taken" in tags(app, "verification:dopa")


def test_already_linked_answers_count_against_the_attempt_budget(app, make_user):
    owner = member(app, make_user, "owner@example.com")
    check(owner, SOMCHAI)
    prober = member(app, make_user, "prober@example.com")
    for _ in range(5):
        assert check(prober, SOMCHAI).status_code == 422
    assert check(prober, SOMCHAI).status_code == 429


def test_a_dopa_outage_spends_no_attempts(app, make_user):
    from idp.verification.dopa import citizen_registry_from_config
    from tests.support.smtp import free_port

    web = member(app, make_user, "a@example.com")
    working = app.extensions["idp.citizen_registry"]
    app.extensions["idp.citizen_registry"] = citizen_registry_from_config({
        "BACKEND": "soap", "URL": f"http://127.0.0.1:{free_port()}/ws", "TIMEOUT_SECONDS": 1,
        "RETRIES": 0})
    for _ in range(6):
        assert check(web, {**SOMCHAI, "laser_code": "JT1234567890"}).status_code == 503
    app.extensions["idp.citizen_registry"] = working
    assert check(web, SOMCHAI).status_code == 302
    assert stored(app, "a@example.com")["identity_verified"] is True


def test_another_account_cannot_exhaust_the_victims_per_id_budget(app, make_user):
    attacker = member(app, make_user, "attacker@example.com")
    statuses = [check(attacker, WRONG_NAME).status_code for _ in range(6)]
    assert statuses[-1] == 429  # the attacker's own budgets run out
    victim = member(app, make_user, "somchai@example.com")
    assert check(victim, SOMCHAI).status_code == 302
    assert stored(app, "somchai@example.com")["identity_verified"] is True


def test_one_account_spends_at_most_its_share_of_an_ids_budget(app, make_user):
    attacker = member(app, make_user, "attacker@example.com")
    statuses = [check(attacker, WRONG_NAME).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_a_reviewer_resets_a_citizen_ids_budget_without_the_id_in_argv(app, make_user):
    app.config["RATE_LIMITS"]["IDENTITY_CHECK_PER_CITIZEN_ID"] = "1 per day"
    attacker = member(app, make_user, "attacker@example.com")
    check(attacker, WRONG_NAME)
    victim = member(app, make_user, "somchai@example.com")
    assert check(victim, SOMCHAI).status_code == 429
    result = app.test_cli_runner().invoke(args=["verification", "reset-attempts"],
                                          input="1-1017-00230-70-8\n")
    assert result.exit_code == 0, result.output
    assert "1101700230708" not in result.output and "1-1017-00230-70-8" not in result.output
    assert check(victim, SOMCHAI).status_code == 302
    assert "verification:attempts:reset" in tags(app, "verification:attempts")


def test_reset_attempts_refuses_an_invalid_citizen_id(app):
    result = app.test_cli_runner().invoke(args=["verification", "reset-attempts"],
                                          input="1234567890123\n")
    assert result.exit_code == 2 and "1234567890123" not in result.output


@pytest.mark.parametrize("path", ["/verify/identity", "/verify/staff"])
def test_the_masked_citizen_id_shows_at_most_the_last_four_digits(app, make_user, path):
    web = member(app, make_user, "a@example.com")
    check(web, SOMCHAI, path)
    assert stored(app, "a@example.com")["citizen_id_masked"] == "x-xxxx-xxxx0-70-8"
    page = web.get("/account").get_data(as_text=True)
    assert "x-xxxx-xxxx0-70-8" in page and "1-1017" not in page


def run_mask_migration(app):
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from idp.db import db

    path = Path(__file__).parents[2] / "idp/migrations/versions/e5_identity_binding.py"
    spec = importlib.util.spec_from_file_location("e5_identity_binding", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context(), db.engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            migration.upgrade()


def test_old_six_digit_masks_are_cut_to_the_last_digit_then_rebuilt_from_the_ciphertext(app, make_user):
    from idp.accounts.pdpa import vault
    from idp.accounts.service import find_by_email
    from idp.db import db

    make_user(email="old@example.com")
    make_user(email="new@example.com")
    with app.app_context():
        old = find_by_email("old@example.com")
        old.citizen_id_encrypted = vault().encrypt(SOMCHAI["citizen_id"])
        old.citizen_id_masked = "1-1017-xxxxx-xx-8"
        find_by_email("new@example.com").citizen_id_masked = "x-xxxx-xxxx3-45-8"
        db.session.commit()
    run_mask_migration(app)
    run_mask_migration(app)  # idempotent
    assert stored(app, "old@example.com")["citizen_id_masked"] == "x-xxxx-xxxxx-xx-8"
    assert stored(app, "new@example.com")["citizen_id_masked"] == "x-xxxx-xxxx3-45-8"
    result = app.test_cli_runner().invoke(args=["pdpa", "remask"])
    assert result.exit_code == 0 and "rebuilt 1 mask" in result.output
    assert stored(app, "old@example.com")["citizen_id_masked"] == "x-xxxx-xxxx0-70-8"
