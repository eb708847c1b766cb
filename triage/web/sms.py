"""Twilio webhooks: inbound SMS and delivery status, both signature-checked.

A request whose `X-Twilio-Signature` does not match is refused with 403 before
anything is stored. The signature covers the public URL Twilio called, so behind
a proxy `TRIAGE_PUBLIC_BASE_URL` says what that URL was.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from triage.config import Settings
from triage.connectors.sms.keywords import record_opt_change
from triage.connectors.sms.parse import FORM_CONTENT_TYPE, BadSmsForm, parse_sms
from triage.connectors.sms.status import BadStatusForm, apply_status
from triage.intake import IntakeUnavailable
from triage.store.db import DatabaseUnavailable
from triage.web.body import parse_form, read_body, require_content_type
from triage.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio")

MAX_FORM_BYTES = 64 * 1024
"""Largest webhook form accepted, in bytes (an MMS with ten media URLs is a few kilobytes)."""
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
"""Nothing to say back: replies are sent by the outbound queue, not in the webhook answer."""


def signed_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: the public base plus this path (and query), else the URL we were called on."""
    if not public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public_base_url.rstrip("/") + request.url.path + query


async def signed_form(request: Request, settings: Settings) -> tuple[bytes, dict[str, str]]:
    if not settings.twilio_auth_token:
        raise HTTPException(404, "SMS is not configured on this installation")
    require_content_type(request, FORM_CONTENT_TYPE)
    body = await read_body(request, MAX_FORM_BYTES)
    form = parse_form(body)
    signature = request.headers.get("x-twilio-signature", "")
    url = signed_url(request, settings.public_base_url)
    if not signature or not RequestValidator(settings.twilio_auth_token).validate(url, form, signature):
        log.info("Twilio request with a missing or wrong signature refused", extra={"channel": "sms"})
        raise HTTPException(403, "invalid or missing X-Twilio-Signature")
    return body, form


@router.post("/sms")
async def inbound_sms(request: Request, rt: RuntimeDep) -> Response:
    body, form = await signed_form(request, rt.settings)
    now = datetime.now(UTC)
    try:
        msg = parse_sms(form, body, now)
    except BadSmsForm as exc:
        raise HTTPException(400, str(exc)) from None
    keyword = msg.meta.get("keyword")
    try:
        if keyword in ("stop", "start"):
            await run_in_threadpool(record_opt_change, rt.sessions, msg.sender.value, keyword, msg.external_id, now)
        else:
            await run_in_threadpool(rt.intake.accept, msg)
    except (IntakeUnavailable, DatabaseUnavailable):
        log.warning("SMS refused while storage is unavailable; Twilio will retry", extra={"channel": "sms"})
        raise HTTPException(503, "storage unavailable, retry later") from None
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/status")
async def delivery_status(request: Request, rt: RuntimeDep) -> Response:
    _, form = await signed_form(request, rt.settings)
    try:
        reply_id = await run_in_threadpool(apply_status, rt.sessions, form, datetime.now(UTC))
    except BadStatusForm as exc:
        raise HTTPException(400, str(exc)) from None
    except DatabaseUnavailable:
        raise HTTPException(503, "storage unavailable, retry later") from None
    if reply_id is not None:
        log.info("reply delivery status updated", extra={"channel": "sms", "reply_id": reply_id})
    return Response(status_code=204)
