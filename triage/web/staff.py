"""The correspondence team's pages: the queue, a case with its whole history, and the actions on it.

Routes stay thin: read with `worklist`, change with `casework` inside one
transaction, then put any stored reply on the outbound queue after the commit.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from triage import casework, worklist
from triage.deadlines import london_date
from triage.queue import QueueUnavailable, outbound_job
from triage.runtime import Runtime
from triage.store.db import transaction
from triage.store.models import AttachmentRow
from triage.templates.catalogue import LANGUAGES, SERVICE_TEAMS
from triage.templates.render import RenderError
from triage.web.deps import RuntimeDep
from triage.web.staff_auth import StaffCsrf, StaffSession, SupervisorDep, UserDep, render

log = logging.getLogger(__name__)
router = APIRouter(prefix="/staff")

CHANNELS = ("email", "sms", "webchat", "telegram", "post")
SLA_STATES = ("ok", "at_risk", "breached")
Text = Annotated[str, Form()]
UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")
MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$", re.ASCII)


def label_choices() -> dict[str, tuple[str, ...]]:
    """The taxonomy's IDs per family: the only values a correction may set."""
    from triage.classify.taxonomy import ids

    return {family: ids(family) for family in ("service", "contact_type", "avoidable_reason", "language")}


def now_utc() -> datetime:
    return datetime.now(UTC)


@router.get("/", response_class=HTMLResponse)
def queue_page(request: Request, rt: RuntimeDep, user: UserDep, service: str | None = None,
               channel: str | None = None, assignee: str | None = None, sla: str | None = None) -> HTMLResponse:
    filters = worklist.QueueFilters(service or None, channel or None, assignee or None, sla or None)
    with rt.sessions() as session:
        rows = worklist.queue(session, filters, now_utc(), rt.settings.region)
        people = worklist.assignees(session)
    return render(request, "queue.html", user=user, rows=rows, filters=filters, services=label_choices()["service"],
                  channels=CHANNELS, sla_states=SLA_STATES, assignees=people, flash=request.session.pop("flash", None))


def case_page(request: Request, rt: Runtime, user: StaffSession, case_id: int, *, status_code: int = 200,
              error: str | None = None, preview=None, chosen: dict | None = None) -> HTMLResponse:
    now = now_utc()
    with rt.sessions() as session:
        file = worklist.case_file(session, case_id, now, rt.settings.region)
        if file is None:
            raise HTTPException(404, "No such case.")
        return render(request, "case.html", status_code=status_code, user=user, file=file, error=error,
                      preview=preview, chosen=chosen or {}, labels=label_choices(),
                      templates=casework.STAFF_TEMPLATES, languages=LANGUAGES, teams=SERVICE_TEAMS,
                      resolutions=casework.RESOLUTIONS, today=london_date(now), reply_token=uuid.uuid4().hex,
                      flash=request.session.pop("flash", None))


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_view(request: Request, rt: RuntimeDep, user: UserDep, case_id: int) -> HTMLResponse:
    return case_page(request, rt, user, case_id)


def _act(request: Request, rt: Runtime, user: StaffSession, case_id: int, done: str, action) -> Response:
    """Run one casework action in a transaction; on success queue its replies and go back to the case."""
    try:
        with transaction(rt.sessions) as session:
            reply_id = action(session)
    except (casework.CaseworkError, RenderError) as exc:
        return case_page(request, rt, user, case_id, status_code=400, error=str(exc))
    if isinstance(reply_id, int):
        enqueue_reply(rt, reply_id)
    log.info("casework action", extra={"case_id": case_id, "staff_user_id": user.id, "action": done})
    request.session["flash"] = done
    return RedirectResponse(f"/staff/cases/{case_id}", status_code=303)


def enqueue_reply(rt: Runtime, reply_id: int) -> None:
    try:
        rt.queue.enqueue(outbound_job(reply_id))
    except QueueUnavailable:
        log.warning("queue unavailable; reply left queued for the sweeper", extra={"reply_id": reply_id})


@router.post("/cases/{case_id}/assign", dependencies=[StaffCsrf])
def assign_to_me(request: Request, rt: RuntimeDep, user: UserDep, case_id: int) -> Response:
    return _act(request, rt, user, case_id, "Assigned to you.",
                lambda s: casework.assign(s, user.actor, case_id, user.username))


@router.post("/cases/{case_id}/reply", dependencies=[StaffCsrf])
def reply(request: Request, rt: RuntimeDep, user: UserDep, case_id: int, template: Text, language: Text,
          token: Text, step: Text = "preview") -> Response:
    """First the preview (nothing stored), then `step=send` stores and queues exactly that reply."""
    if step != "send":
        try:
            with rt.sessions() as session:
                rendered = casework.preview(session, rt.council, case_id, template, language,
                                            london_date(now_utc()))
        except (casework.CaseworkError, RenderError) as exc:
            return case_page(request, rt, user, case_id, status_code=400, error=str(exc))
        return case_page(request, rt, user, case_id, preview=rendered,
                         chosen={"template": template, "language": language, "token": token})
    return _act(request, rt, user, case_id, "Reply queued for sending.",
                lambda s: casework.send_template(s, rt.council, user.actor, case_id, template, language, token,
                                                 now_utc()))


@router.post("/cases/{case_id}/pass", dependencies=[StaffCsrf])
def pass_on(request: Request, rt: RuntimeDep, user: UserDep, case_id: int, team: Text) -> Response:
    return _act(request, rt, user, case_id, "Passed to the service team; the resident has been told.",
                lambda s: casework.pass_to_service(s, rt.council, user.actor, case_id, team, now_utc()))


@router.post("/cases/{case_id}/extend", dependencies=[StaffCsrf])
def extend(request: Request, rt: RuntimeDep, user: UserDep, case_id: int, promised_by: Text) -> Response:
    try:
        promised = date.fromisoformat(promised_by)
    except ValueError:
        return case_page(request, rt, user, case_id, status_code=400, error="Give the promised date as a date.")
    return _act(request, rt, user, case_id, "Holding reply queued; the case is now measured against the new date.",
                lambda s: casework.extend(s, rt.council, user.actor, case_id, promised, now_utc(),
                                          rt.settings.region))


@router.post("/cases/{case_id}/close", dependencies=[StaffCsrf])
def close(request: Request, rt: RuntimeDep, user: UserDep, case_id: int, resolution: Text,
          note: Text = "") -> Response:
    return _act(request, rt, user, case_id, "Case closed.",
                lambda s: casework.close(s, user.actor, case_id, resolution, note, now_utc()))


@router.post("/cases/{case_id}/labels", dependencies=[StaffCsrf])
def correct(request: Request, rt: RuntimeDep, user: SupervisorDep, case_id: int, service: Text,
            contact_type: Text, avoidable_reason: Text, language: Text, urgent: Text = "") -> Response:
    labels = casework.Labels(service, contact_type, avoidable_reason, urgent == "on", language)

    def action(session) -> None:
        casework.correct_labels(session, user.actor, case_id, labels, now_utc(), label_choices())

    return _act(request, rt, user, case_id, "Labels corrected; the correction will be used at the next training.",
                action)


@router.post("/cases/{case_id}/links/{suggestion_id}", dependencies=[StaffCsrf])
def decide_link(request: Request, rt: RuntimeDep, user: UserDep, case_id: int, suggestion_id: int,
                decision: Text) -> Response:
    if decision not in ("confirm", "reject"):
        raise HTTPException(400, "decision must be confirm or reject")
    return _act(request, rt, user, case_id, f"Link {decision}ed.",
                lambda s: casework.decide_link(s, user.actor, suggestion_id, decision == "confirm", now_utc()))


@router.get("/attachments/{attachment_id}")
def attachment(rt: RuntimeDep, user: UserDep, attachment_id: int) -> Response:
    """A stored attachment, always as a download (never rendered here: it came from outside)."""
    with rt.sessions() as session:
        row = session.get(AttachmentRow, attachment_id)
        if row is None or not row.sha256 or not rt.blobs.exists(row.sha256):
            raise HTTPException(404, "No such attachment, or it has not been fetched.")
        media_type = row.content_type if MEDIA_TYPE.match(row.content_type) else "application/octet-stream"
        name = safe_filename(row.filename, media_type, attachment_id)
        data = rt.blobs.get(row.sha256)
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


def safe_filename(filename: str | None, media_type: str, attachment_id: int) -> str:
    """The resident's file name cut down to harmless ASCII, or `attachment-<id>` with the type's extension."""
    name = UNSAFE_IN_FILENAME.sub("_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")[:100]
    return name or f"attachment-{attachment_id}{mimetypes.guess_extension(media_type) or ''}"
