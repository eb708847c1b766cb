"""`POST /post/upload`: the post room's upload form, behind a bearer token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.connectors.channels import client_for, count, runtime_with, without_database
from tests.connectors.post_letters import ENGLISH_BIN, WELSH_LIBRARY, encrypted_pdf, text_pdf
from triage.message import sha256_hex
from triage.store.models import Message

TOKEN = "post-room-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(runtime):
    return client_for(runtime_with(runtime, post_upload_token=TOKEN, post_max_bytes=200_000))


def upload(client, data: bytes, name: str = "scan.pdf", headers=AUTH):
    return client.post("/post/upload", files={"file": (name, data, "application/octet-stream")}, headers=headers)


def test_an_uploaded_scan_is_stored_once(client, runtime):
    letter = text_pdf(ENGLISH_BIN)

    first = upload(client, letter, "../../etc/scan.pdf")
    again = upload(client, letter)

    assert first.status_code == 201, first.text
    assert first.json() == {"message_id": first.json()["message_id"], "external_id": "sha256:" + sha256_hex(letter),
                            "created": True, "pages": 1, "needs_reading": False}
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["message_id"] == first.json()["message_id"]
    assert count(runtime, Message) == 1
    with runtime.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert message.meta["scan"]["filename"] == "scan.pdf"  # no path from the browser kept


def test_refused_scans_say_why(client, runtime):
    assert (locked := upload(client, encrypted_pdf())).status_code == 422
    assert locked.json()["reason"] == "encrypted"
    assert upload(client, b"PK\x03\x04 a zip").json()["reason"] == "unsupported_type"
    assert upload(client, b"PK\x03\x04 a zip").status_code == 415
    assert upload(client, b"").json()["reason"] == "empty"
    assert upload(client, b"%PDF-" + b"0" * 300_000).status_code == 413
    assert count(runtime, Message) == 0


def test_upload_needs_the_token_and_is_off_without_one(runtime, client):
    assert upload(client, text_pdf(WELSH_LIBRARY), headers={}).status_code == 401
    assert upload(client, text_pdf(WELSH_LIBRARY), headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert upload(client_for(runtime), text_pdf(WELSH_LIBRARY)).status_code == 404
    assert client.post("/post/upload", content=b"%PDF-", headers={**AUTH, "Content-Type": "application/pdf"}
                       ).status_code == 415
    no_file = client.post("/post/upload", files={"attachment": ("scan.pdf", b"%PDF-")}, headers=AUTH)
    assert no_file.status_code == 400 and "`file`" in no_file.json()["detail"]


def test_storage_down_is_503_so_the_uploader_tries_again(runtime):
    dead = runtime_with(without_database(runtime), post_upload_token=TOKEN)
    response = upload(client_for(dead), text_pdf(ENGLISH_BIN))
    assert response.status_code == 503
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
