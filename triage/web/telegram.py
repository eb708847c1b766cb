"""Telegram webhook: the secret-token header proves the update came from Telegram.

Telegram retries an update until it gets a 2xx, so the answer is 200 only once
intake has stored the message, and 503 while storage is down.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, HTTPException, Request
from telegram import Update

from triage.connectors.telegram.inbound import inbound_for
from triage.intake import IntakeUnavailable
from triage.web.body import parse_json_object, read_body, require_content_type
from triage.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter()

MAX_UPDATE_BYTES = 1024 * 1024
"""Largest update accepted, in bytes (a 4,096-character message with entities is far smaller)."""
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name, not a secret


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request, rt: RuntimeDep) -> dict:
    secret = rt.settings.telegram_secret
    if not (rt.settings.telegram_token and secret):
        raise HTTPException(404, "Telegram webhooks are not configured on this installation")
    if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
        log.info("Telegram webhook with a missing or wrong secret refused", extra={"channel": "telegram"})
        raise HTTPException(403, "invalid or missing secret token")
    require_content_type(request, "application/json")
    body = await read_body(request, MAX_UPDATE_BYTES)
    data = parse_json_object(body)
    try:
        update = Update.de_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise HTTPException(400, "not a Telegram update") from None
    try:
        outcome = await inbound_for(rt).handle(update, body)
    except IntakeUnavailable:
        log.warning("Telegram update refused while storage is unavailable", extra={"channel": "telegram"})
        raise HTTPException(503, "storage unavailable, retry later") from None
    log.info("telegram update handled", extra={"channel": "telegram", "action": outcome})
    return {"ok": True}
