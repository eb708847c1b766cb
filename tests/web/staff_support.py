"""Shared by the staff-page tests: accounts, a signed-in client, a queued case, the CSRF token of a page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import drain, make_message
from triage.accounts import add_user
from triage.store.db import transaction
from triage.store.models import Case
from triage.web.app import create_app

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_staff(rt, username: str, role: str) -> None:
    with transaction(rt.sessions) as session:
        add_user(session, username, PASSWORD, role, actor="test")


def csrf_of(html: str) -> str:
    return _CSRF.search(html).group(1)


def signed_in(rt, username: str = "alice", role: str = "agent") -> TestClient:
    """A client signed in through the real login form."""
    add_staff(rt, username, role)
    client = TestClient(create_app(rt))
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"username": username, "password": PASSWORD, "next": "/staff/",
                                                 "csrf_token": csrf_of(page.text)})
    assert response.status_code == 200 and "Open cases" in response.text, response.text
    return client


def post_form(client: TestClient, page_url: str, action: str, data: dict):
    """Submit a form the way a browser would: with the CSRF token from the page it is on."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={**data, "csrf_token": token})


def queued_case(rt, intake, text: str = "My bin was not collected on Tuesday.", **message) -> Case:
    """A message taken in and triaged by the real job (no model: queued for a person)."""
    intake.accept(make_message(text, **message))
    drain(rt, queues=("triage",))
    with rt.sessions() as session:
        return session.scalars(select(Case).order_by(Case.id.desc())).first()


def outbound_job_ids(rt) -> list[str]:
    return rt.queue.queues["outbound"].job_ids
