"""Staff sign-in: every page needs it, every form needs its CSRF token, supervisors' actions are checked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.staff_support import PASSWORD, add_staff, csrf_of, post_form, queued_case, signed_in
from triage.config import ConfigError
from triage.web.app import create_app


@pytest.mark.parametrize("path", ["/staff/", "/staff/cases/1", "/staff/reports", "/staff/models"])
def test_pages_redirect_to_sign_in_when_not_signed_in(runtime, path):
    client = TestClient(create_app(runtime))
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/login?next={path}"


def test_actions_redirect_to_sign_in_when_not_signed_in(runtime, intake):
    case = queued_case(runtime, intake)
    client = TestClient(create_app(runtime))
    response = client.post(f"/staff/cases/{case.id}/assign", data={"csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")


def test_wrong_password_is_refused_and_right_one_lands_on_the_queue(runtime):
    add_staff(runtime, "alice", "agent")
    client = TestClient(create_app(runtime))
    token = csrf_of(client.get("/staff/login").text)
    wrong = client.post("/staff/login", data={"username": "alice", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "do not match" in wrong.text
    right = client.post("/staff/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token,
                                              "next": "/staff/reports"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/staff/reports"


def test_repeated_wrong_passwords_lock_that_username_for_a_while(runtime):
    from datetime import UTC, datetime

    from triage.accounts import MAX_FAILED_SIGN_INS, SIGN_IN_LOCKOUT, sign_in_locked

    add_staff(runtime, "alice", "agent")
    add_staff(runtime, "bob", "agent")
    client = TestClient(create_app(runtime))
    token = csrf_of(client.get("/staff/login").text)
    for _ in range(MAX_FAILED_SIGN_INS):
        assert client.post("/staff/login", data={"username": "alice", "password": "guess",
                                                 "csrf_token": token}).status_code == 401

    locked = client.post("/staff/login", data={"username": "Alice", "password": PASSWORD, "csrf_token": token},
                         follow_redirects=False)
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.text
    other = client.post("/staff/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token},
                        follow_redirects=False)
    assert other.status_code == 303, "one locked name does not lock anyone else"
    with runtime.sessions() as session:
        later = datetime.now(UTC) + SIGN_IN_LOCKOUT
        assert not sign_in_locked(session, "alice", later)


def test_sign_in_never_redirects_off_the_staff_pages(runtime):
    add_staff(runtime, "alice", "agent")
    client = TestClient(create_app(runtime))
    token = csrf_of(client.get("/staff/login").text)
    response = client.post("/staff/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token,
                                                 "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/staff/"


def test_post_without_csrf_token_is_refused(runtime, intake):
    case = queued_case(runtime, intake)
    client = signed_in(runtime)
    assert client.post(f"/staff/cases/{case.id}/assign").status_code == 403
    assert client.post(f"/staff/cases/{case.id}/assign", data={"csrf_token": "forged"}).status_code == 403
    login_client = TestClient(create_app(runtime))
    assert login_client.post("/staff/login", data={"username": "alice", "password": PASSWORD}).status_code == 403


def test_agent_is_refused_supervisor_pages_and_actions(runtime, intake):
    case = queued_case(runtime, intake)
    client = signed_in(runtime, "alice", "agent")
    assert client.get("/staff/reports").status_code == 403
    assert client.get("/staff/models").status_code == 403
    labels = {"service": "housing", "contact_type": "report_issue", "avoidable_reason": "none", "language": "en"}
    assert post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/labels", labels).status_code == 403
    assert post_form(client, "/staff/", "/staff/models/rollback", {}).status_code == 403


def test_sign_out_ends_the_session(runtime):
    client = signed_in(runtime)
    post_form(client, "/staff/", "/staff/logout", {})
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_deactivated_account_is_signed_out_at_once(runtime):
    from sqlalchemy import update

    from triage.store.models import StaffUser

    client = signed_in(runtime)
    with runtime.sessions.begin() as session:
        session.execute(update(StaffUser).values(active=False))
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_placeholder_secret_is_refused_outside_development(runtime):
    runtime.settings = runtime.settings.model_copy(update={"environment": "production", "secret_key": "change-me"})
    with pytest.raises(ConfigError, match="TRIAGE_SECRET_KEY"):
        create_app(runtime)
    runtime.settings = runtime.settings.model_copy(update={"secret_key": "k" * 40})
    create_app(runtime)
