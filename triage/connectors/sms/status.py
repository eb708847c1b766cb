"""Twilio's status callbacks -> the reply's delivery status.

Callbacks can arrive late, twice or out of order, so a reply's status only moves
forward (sent -> delivered, or -> failed) and a repeat changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage.store.db import transaction
from triage.store.models import Reply
from triage.store.records import log_event

ACTOR = "connector:sms"
TWILIO_TO_REPLY = {"sent": "sent", "delivered": "delivered", "undelivered": "failed", "failed": "failed"}
"""Twilio's final and near-final states; queued/accepted/sending say nothing we do not know."""
RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "failed": 3}


class BadStatusForm(ValueError):
    pass


def apply_status(sessions: sessionmaker[Session], form: Mapping[str, str], now: datetime) -> int | None:
    """Update the reply Twilio reports on; its id, or None when nothing matched or changed."""
    sid = (form.get("MessageSid") or "").strip()
    twilio_status = (form.get("MessageStatus") or "").strip().lower()
    if not sid or not twilio_status:
        raise BadStatusForm("MessageSid and MessageStatus are required")
    new = TWILIO_TO_REPLY.get(twilio_status)
    if new is None:
        return None
    with transaction(sessions) as session:
        reply = session.scalars(
            select(Reply).where(Reply.channel == "sms", Reply.provider_id == sid).with_for_update()
        ).first()
        if reply is None or RANK.get(new, 0) <= RANK.get(reply.status, 0):
            return None
        reply.status = new
        if new == "delivered":
            reply.delivered_at = now
        if new == "failed":
            code = form.get("ErrorCode") or "none"
            reply.error = f"Twilio reports {twilio_status} (error {code})"
        log_event(session, ACTOR, f"reply_{new}", case_id=reply.case_id, message_id=reply.message_id,
                  reply_id=reply.id, provider_status=twilio_status, error_code=form.get("ErrorCode"))
        return reply.id
