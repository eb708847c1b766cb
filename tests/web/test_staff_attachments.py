"""Staff open a message's stored attachments from the case page, signed in, always as a download."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.staff_support import queued_case, signed_in
from triage.message import Attachment
from triage.store.models import AttachmentRow
from triage.web.app import create_app

PDF = b"%PDF-1.4 a tenancy agreement"


def case_with_attachments(runtime, intake):
    """One stored file, and one left at a provider that no fetcher can reach (marked by the media job)."""
    case = queued_case(runtime, intake, "Please see the attached agreement.", attachments=(
        Attachment('../../etc/agree"ment.pdf', "application/pdf", data=PDF),
        Attachment(None, "image/jpeg", url="https://media.example/1", role="to_fetch")))
    with runtime.sessions() as session:
        stored, failed = session.scalars(select(AttachmentRow).order_by(AttachmentRow.id)).all()
    return case, stored, failed


def test_download_needs_sign_in(runtime, intake):
    _, stored, _ = case_with_attachments(runtime, intake)
    response = TestClient(create_app(runtime)).get(f"/staff/attachments/{stored.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")


def test_case_page_links_stored_attachments_which_download_with_safe_headers(runtime, intake):
    case, stored, failed = case_with_attachments(runtime, intake)
    client = signed_in(runtime)
    page = client.get(f"/staff/cases/{case.id}").text
    assert f'href="/staff/attachments/{stored.id}"' in page
    assert f'href="/staff/attachments/{failed.id}"' not in page and "could not be fetched" in page

    response = client.get(f"/staff/attachments/{stored.id}")
    assert response.status_code == 200 and response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="agree_ment.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unfetched_or_unknown_attachments_are_404(runtime, intake):
    _, stored, failed = case_with_attachments(runtime, intake)
    client = signed_in(runtime)
    assert failed.role == "fetch_failed"
    assert client.get(f"/staff/attachments/{failed.id}").status_code == 404
    assert client.get(f"/staff/attachments/{stored.id + 100}").status_code == 404


def test_safe_filename_keeps_plain_names_and_invents_one_when_nothing_is_left():
    from triage.web.staff import safe_filename

    assert safe_filename("Photo 1.jpg", "image/jpeg", 7) == "Photo 1.jpg"
    assert safe_filename("..\\\\évier\r\n.png", "image/png", 7) == "vier_.png"
    assert safe_filename(None, "image/jpeg", 7) == "attachment-7.jpg"
    assert safe_filename("...", "application/x-unknown", 7) == "attachment-7"
