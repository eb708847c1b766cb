"""Replies waiting for a chat session: the widget fetches them, which counts as delivery.

A reply reaches `sent` when the outbound job has run (see `transport.py`); the
first fetch marks it `delivered`. Fetching again returns it again, so a response
lost on the way to the browser costs nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage.store.db import transaction
from triage.store.models import Reply

VISIBLE = ("sent", "delivered")
BATCH = 50


def replies_after(sessions: sessionmaker[Session], public_id: str, after_id: int, now: datetime) -> list[dict]:
    with transaction(sessions) as session:
        rows = session.scalars(
            select(Reply).where(Reply.channel == "webchat", Reply.recipient == public_id,
                                Reply.status.in_(VISIBLE), Reply.id > after_id)
            .order_by(Reply.id).limit(BATCH)
        ).all()
        for reply in rows:
            if reply.status == "sent":
                reply.status = "delivered"
                reply.delivered_at = now
        return [{"id": r.id, "text": r.body_text or "", "sent_at": r.sent_at.isoformat() if r.sent_at else None}
                for r in rows]
