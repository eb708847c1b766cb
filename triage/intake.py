"""The one door every connector uses: store durably and idempotently, then queue.

Order matters: blobs are fsynced, then the message row commits, and only then is
the job queued. A connector may say "accepted" once `accept` returns; if the
queue is down the message waits as `pending` for the sweeper, and if the database
is down `IntakeUnavailable` tells the connector to refuse so the sender retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from triage.message import InboundMessage, sha256_hex
from triage.queue import JobQueue, QueueUnavailable, triage_job
from triage.store.blobs import BlobStore
from triage.store.db import DatabaseUnavailable, transaction
from triage.store.models import AttachmentRow, Event, Message

log = logging.getLogger(__name__)


class IntakeUnavailable(RuntimeError):
    """Storage is unavailable: refuse the message with a temporary error (SMTP 451, HTTP 503)."""

    retryable = True


@dataclass(frozen=True)
class Accepted:
    message_id: int
    created: bool
    """False when this channel + external id was already stored (a retry or a duplicate)."""
    queued: bool


@dataclass(frozen=True)
class Intake:
    sessions: sessionmaker[Session]
    blobs: BlobStore
    queue: JobQueue
    retries: int = 5
    actor: str = "intake"

    def accept(self, msg: InboundMessage) -> Accepted:
        existing = self._find(msg)
        if existing is not None:
            log.info("duplicate message", extra={"message_id": existing[0], "channel": msg.channel})
            queued = existing[1] == "pending" and self._enqueue(existing[0])
            return Accepted(existing[0], created=False, queued=queued)
        try:
            raw_sha = self.blobs.put(msg.raw)
            for att in msg.attachments:
                if att.data is not None:
                    self.blobs.put(att.data)
        except OSError as exc:
            raise IntakeUnavailable(f"blob store unavailable: {exc.strerror or exc}") from exc
        try:
            message_id = self._store(msg, raw_sha)
        except IntegrityError:
            existing = self._find(msg)
            if existing is None:
                raise
            return Accepted(existing[0], created=False, queued=False)
        log.info("message stored", extra={"message_id": message_id, "channel": msg.channel})
        return Accepted(message_id, created=True, queued=self._enqueue(message_id))

    def _find(self, msg: InboundMessage) -> tuple[int, str] | None:
        try:
            with transaction(self.sessions) as session:
                row = session.execute(
                    select(Message.id, Message.status).where(
                        Message.channel == msg.channel, Message.external_id == msg.external_id
                    )
                ).first()
        except DatabaseUnavailable as exc:
            raise IntakeUnavailable(str(exc)) from exc
        return (row[0], row[1]) if row else None

    def _store(self, msg: InboundMessage, raw_sha: str) -> int:
        try:
            with transaction(self.sessions) as session:
                row = message_row(msg, raw_sha)
                session.add(row)
                session.flush()
                for att in msg.attachments:
                    session.add(
                        AttachmentRow(
                            message_id=row.id, sha256=att.sha256, filename=att.filename,
                            content_type=att.content_type, size=att.size, role=att.role, url=att.url,
                        )
                    )
                session.add(Event(actor=self.actor, kind="message_received", message_id=row.id,
                                  data={"channel": msg.channel, "kind": msg.kind}))
                return row.id
        except DatabaseUnavailable as exc:
            raise IntakeUnavailable(str(exc)) from exc

    def _enqueue(self, message_id: int) -> bool:
        """Queue the triage job; on success move pending -> queued (never backwards)."""
        try:
            self.queue.enqueue(triage_job(message_id, self.retries))
        except QueueUnavailable as exc:
            log.warning("queue unavailable; message left pending for the sweeper",
                        extra={"message_id": message_id, "error": str(exc)})
            return False
        try:
            with transaction(self.sessions) as session:
                session.execute(
                    update(Message).where(Message.id == message_id, Message.status == "pending")
                    .values(status="queued")
                )
        except DatabaseUnavailable:
            log.warning("could not mark message queued", extra={"message_id": message_id})
        return True


def message_row(msg: InboundMessage, raw_sha: str) -> Message:
    automatic = None
    if msg.automatic is not None:
        automatic = {
            "kind": msg.automatic.kind,
            "reason": msg.automatic.reason,
            "original_message_id": msg.automatic.original_message_id,
            "failed_recipients": list(msg.automatic.failed_recipients),
            "permanent": msg.automatic.permanent,
        }
    return Message(
        channel=msg.channel,
        external_id=msg.external_id,
        kind=msg.kind,
        status="pending",
        attempts=0,
        sender_kind=msg.sender.kind,
        sender_value=msg.sender.value,
        sender_name=msg.sender.display_name,
        subject=msg.subject,
        text=msg.text,
        html=msg.html,
        received_at=msg.received_at,
        in_reply_to=msg.in_reply_to,
        references=list(msg.references),
        case_reference_hint=msg.case_reference,
        contact_points=[{"kind": c.kind, "value": c.value} for c in msg.contact_points],
        automatic=automatic,
        meta=dict(msg.meta),
        raw_sha256=raw_sha or sha256_hex(msg.raw),
        raw_content_type=msg.raw_content_type,
        raw_size=len(msg.raw),
    )
