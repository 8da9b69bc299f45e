"""Staff verification: the MOC personnel method (DOPA, AD, DPIS), the document path, the
review queue, re-verification, and client policies that depend on staff status."""

from __future__ import annotations

import io
import json

import pytest

from tests.support.flows import Flow, csrf_token, decode_jwt, query_of

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}      # in AD (enabled) and in DPIS
SOMYING = {"citizen_id": "3100500123458", "first_name_th": "สมหญิง", "last_name_th": "รักเรียน",
           "birthdate": "02/11/2515"}      # in DPIS only
PRAYOON = {"citizen_id": "5209900456784", "first_name_th": "ประยูร", "last_name_th": "มั่นคง",
           "birthdate": "00/00/2490"}      # out of service in DPIS: not found anywhere active


def member(app, make_user, person, email):
    make_user(email=email, given_name_th=person["first_name_th"], family_name_th=person["last_name_th"])
    web = app.test_client()
    Flow(web, "x").sign_in(email=email)
    return web


def staff_check(web, person):
    page = web.get("/verify/staff").get_data(as_text=True)
    return web.post("/verify/staff", data={**person, "csrf_token": csrf_token(page)})


def stored(app, email):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return {c.name: getattr(user, c.name) for c in user.__table__.columns}


def test_found_in_ad_is_staff_at_once_with_department_and_position_from_ad(app, make_user):
    web = member(app, make_user, SOMCHAI, "s@example.com")
    response = staff_check(web, SOMCHAI)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    user = stored(app, "s@example.com")
    assert (user["staff_status"], user["staff_verified_by"]) == ("verified", "ad")
    assert user["department"] == "สำนักงานปลัดกระทรวงพาณิชย์" and user["identity_verified"]
    assert "badge" in web.get("/account").get_data(as_text=True)


def test_found_only_in_dpis_is_staff_through_dpis(app, make_user):
    web = member(app, make_user, SOMYING, "y@example.com")
    staff_check(web, SOMYING)
    user = stored(app, "y@example.com")
    assert (user["staff_status"], user["staff_verified_by"]) == ("verified", "dpis")
    assert user["position"] == "นักวิเคราะห์นโยบายและแผนชำนาญการพิเศษ"


def test_id_token_tells_the_rp_about_staff_status_with_scope_moc(app, make_user, make_client):
    web = member(app, make_user, SOMCHAI, "s@example.com")
    staff_check(web, SOMCHAI)
    client_id, secret = make_client()
    claims = decode_jwt(app, Flow(web, client_id).tokens(secret)["id_token"])
    assert claims["moc_staff"] is True and claims["moc_staff_verified_by"] == "ad"
    assert claims["moc_department"] == "สำนักงานปลัดกระทรวงพาณิชย์"


def test_not_found_leads_to_the_document_path(app, make_user):
    web = member(app, make_user, PRAYOON, "p@example.com")
    response = staff_check(web, PRAYOON)
    assert response.headers["Location"] == "/verify/staff/document"
    assert stored(app, "p@example.com")["staff_status"] == "none"
    page = web.get("/verify/staff/document").get_data(as_text=True)
    assert "moc-account-staff-application.pdf" in page


def test_a_disabled_ad_account_does_not_count(app, make_user, adapters, tmp_path):

    entries = tmp_path / "ad.json"
    entries.write_text(json.dumps({"entries": [{**_ad_entry(), "enabled": False}]}))
    app.extensions["idp.staff_directory"] = file_directory(entries)
    app.extensions["idp.hr_system"] = _empty_hr(tmp_path)
    web = member(app, make_user, SOMCHAI, "s@example.com")
    assert staff_check(web, SOMCHAI).headers["Location"] == "/verify/staff/document"


def test_a_record_with_other_names_does_not_count(app, make_user, tmp_path):

    entries = tmp_path / "ad.json"
    entries.write_text(json.dumps({"entries": [{**_ad_entry(), "given_name": "สมศักดิ์"}]}))
    app.extensions["idp.staff_directory"] = file_directory(entries)
    app.extensions["idp.hr_system"] = _empty_hr(tmp_path)
    web = member(app, make_user, SOMCHAI, "s@example.com")
    staff_check(web, SOMCHAI)
    assert stored(app, "s@example.com")["staff_status"] == "none"


def test_sources_that_are_down_are_reported_as_down_not_as_not_found(app, make_user):
    from idp.verification.ad import staff_directory_from_config
    from idp.verification.dpis import hr_system_from_config
    from tests.support.smtp import free_port

    app.extensions["idp.staff_directory"] = staff_directory_from_config({
        "BACKEND": "ldap", "URL": f"ldap://127.0.0.1:{free_port()}", "BIND_DN": "cn=svc",
        "BIND_PASSWORD": "secret", "BASE_DN": "dc=moc", "CONNECT_TIMEOUT_SECONDS": 1,
        "RECEIVE_TIMEOUT_SECONDS": 1})
    app.extensions["idp.hr_system"] = hr_system_from_config({
        "BACKEND": "http", "BASE_URL": f"http://127.0.0.1:{free_port()}", "TOKEN": "t",
        "CONNECT_TIMEOUT_SECONDS": 1, "READ_TIMEOUT_SECONDS": 1, "RETRIES": 0})
    web = member(app, make_user, SOMCHAI, "s@example.com")
    web.get("/lang/en")
    staff_check(web, SOMCHAI)
    page = web.get("/verify/staff/document").get_data(as_text=True)
    assert "cannot be reached" in page and "not found" not in page
    assert stored(app, "s@example.com")["staff_status"] == "none"
    from idp.audit import events

    with app.app_context():
        assert [e.tag for e in events("verification:staff")] == ["verification:staff:unavailable"]


def file_directory(entries):
    from idp.verification.ad import staff_directory_from_config

    return staff_directory_from_config({"BACKEND": "file", "ENTRIES_FILE": str(entries)})


def _ad_entry():
    return {"citizen_id": "1101700230708", "sam_account_name": "somchai.j",
            "user_principal_name": "somchai.j@moc.go.th", "display_name": "สมชาย ใจดี",
            "given_name": "สมชาย", "surname": "ใจดี", "department": "สป.", "title": "นักวิชาการ",
            "enabled": True, "member_of": []}


def _empty_hr(tmp_path):
    from idp.verification.dpis import hr_system_from_config

    people = tmp_path / "dpis.json"
    people.write_text(json.dumps({"people": []}))
    return hr_system_from_config({"BACKEND": "file", "PEOPLE_FILE": str(people)})


# --- the document path -----------------------------------------------------------------------

def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(web, content: bytes, filename="form.png", declaration="y", **fields):
    page = web.get("/verify/staff/document").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "department": "กรมการค้าต่างประเทศ",
            "position": "เจ้าพนักงานพาณิชย์", "document": (io.BytesIO(content), filename), **fields}
    if declaration:
        data["declaration"] = declaration
    return web.post("/verify/staff/document", data=data, content_type="multipart/form-data")


@pytest.fixture
def applicant(app, make_user):
    web = member(app, make_user, PRAYOON, "p@example.com")
    staff_check(web, PRAYOON)
    return web


def test_uploading_a_document_puts_the_member_in_review(app, applicant):
    response = upload(applicant, png_bytes())
    assert response.status_code == 302
    assert stored(app, "p@example.com")["staff_status"] == "pending_review"
    from idp.verification.applications import queue

    with app.app_context():
        [pending] = queue()
        assert pending.department == "กรมการค้าต่างประเทศ"


def test_html_disguised_as_an_image_is_refused_and_nothing_is_stored(app, applicant, tmp_path):
    applicant.get("/lang/en")
    response = upload(applicant, b"<html><script>alert(1)</script></html>", filename="form.jpg")
    assert response.status_code == 422
    assert stored(app, "p@example.com")["staff_status"] == "none"
    from idp.verification.applications import queue

    with app.app_context():
        assert queue() == []


def test_the_declaration_must_be_acknowledged(app, applicant):
    assert upload(applicant, png_bytes(), declaration=None).status_code == 400
    assert stored(app, "p@example.com")["staff_status"] == "none"


def test_an_upload_over_10_mb_is_refused_while_reading(app, applicant):
    response = upload(applicant, b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024 + 100 * 1024))
    assert response.status_code == 413
    assert stored(app, "p@example.com")["staff_status"] == "none"


def test_the_member_may_cancel_and_submit_again(app, applicant):
    upload(applicant, png_bytes())
    page = applicant.get("/verify/staff/document").get_data(as_text=True)
    applicant.post("/verify/staff/document/cancel", data={"csrf_token": csrf_token(page)})
    assert stored(app, "p@example.com")["staff_status"] == "none"
    assert upload(applicant, png_bytes()).status_code == 302


def test_the_application_form_pdf_is_served(web):
    response = web.get("/static/forms/moc-account-staff-application.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")


# --- policies --------------------------------------------------------------------------------

def test_a_staff_only_client_refuses_a_non_staff_member_and_lets_them_in_after(app, make_user, make_client):
    client_id, secret = make_client(staff_only=True, trusted=True)
    web = member(app, make_user, SOMCHAI, "s@example.com")
    flow = Flow(web, client_id)
    refused = flow.authorize()
    assert refused.status_code == 403 and "Location" not in refused.headers
    link = "/verify?interaction="
    assert link in refused.get_data(as_text=True)
    interaction = refused.get_data(as_text=True).split(link)[1].split('"')[0]
    web.get(f"/verify?interaction={interaction}")
    response = staff_check(web, SOMCHAI)
    final = web.get(response.headers["Location"])
    assert "code" in query_of(final.headers["Location"])


def test_prompt_none_to_a_staff_only_client_says_interaction_required(app, make_user, make_client):
    client_id, _ = make_client(staff_only=True, trusted=True)
    web = member(app, make_user, SOMCHAI, "s@example.com")
    query = query_of(Flow(web, client_id).authorize(prompt="none").headers["Location"])
    assert query["error"] == "interaction_required"


def test_losing_staff_status_stops_refresh_at_staff_only_clients_and_logs_them_out(
        app, make_user, make_client, http):
    client_id, secret = make_client(staff_only=True, trusted=True,
                                    backchannel_logout_uri="https://rp.example/bc")
    other_id, other_secret = make_client(name="Open", trusted=True)
    web = member(app, make_user, SOMCHAI, "s@example.com")
    staff_check(web, SOMCHAI)
    staff_tokens = Flow(web, client_id).tokens(secret)
    open_tokens = Flow(web, other_id).tokens(other_secret)
    result = app.test_cli_runner().invoke(args=["staff", "revoke", "--email", "s@example.com",
                                                "--reason", "left the ministry"])
    assert result.exit_code == 0, result.output
    refresh = web.post("/token", data={"grant_type": "refresh_token",
                                       "refresh_token": staff_tokens["refresh_token"]},
                       auth=(client_id, secret))
    assert refresh.status_code == 400
    assert web.post("/token", data={"grant_type": "refresh_token",
                                    "refresh_token": open_tokens["refresh_token"]},
                    auth=(other_id, other_secret)).status_code == 200
    assert [url for url, _ in http.posts] == ["https://rp.example/bc"]


def test_reverify_revokes_members_no_longer_active_and_keeps_the_rest(app, make_user, tmp_path, outbox):

    web = member(app, make_user, SOMCHAI, "s@example.com")
    staff_check(web, SOMCHAI)
    entries = tmp_path / "ad.json"
    entries.write_text(json.dumps({"entries": [{**_ad_entry(), "enabled": False}]}))
    app.extensions["idp.staff_directory"] = file_directory(entries)
    output = app.test_cli_runner().invoke(args=["staff", "reverify"]).output
    assert "revoked 1" in output
    assert stored(app, "s@example.com")["staff_status"] == "none"
    assert outbox.wait_for("s@example.com")  # the member is told


def test_reverify_changes_nothing_when_the_source_is_down(app, make_user):
    from idp.verification.ad import staff_directory_from_config
    from tests.support.smtp import free_port

    web = member(app, make_user, SOMCHAI, "s@example.com")
    staff_check(web, SOMCHAI)
    app.extensions["idp.staff_directory"] = staff_directory_from_config({
        "BACKEND": "ldap", "URL": f"ldap://127.0.0.1:{free_port()}", "BIND_DN": "cn=svc",
        "BIND_PASSWORD": "secret", "BASE_DN": "dc=moc", "CONNECT_TIMEOUT_SECONDS": 1})
    output = app.test_cli_runner().invoke(args=["staff", "reverify"]).output
    assert "revoked 0" in output and "down 1" in output
    assert stored(app, "s@example.com")["staff_status"] == "verified"
