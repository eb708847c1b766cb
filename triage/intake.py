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
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from triage.message import InboundMessage
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
        try:
            raw_sha = self.blobs.put(msg.raw)
            for att in msg.attachments:
                if att.data is not None:
                    self.blobs.put(att.data)
        except OSError as exc:
            raise IntakeUnavailable(f"blob store unavailable: {exc.strerror or exc}") from exc
        message_id, created, status = self._store(msg, raw_sha)
        if not created:
            log.info("duplicate message", extra={"message_id": message_id, "channel": msg.channel})
            return Accepted(message_id, created=False,
                            queued=status == "pending" and self._enqueue(message_id, status))
        log.info("message stored", extra={"message_id": message_id, "channel": msg.channel})
        return Accepted(message_id, created=True, queued=self._enqueue(message_id, status))

    def _store(self, msg: InboundMessage, raw_sha: str) -> tuple[int, bool, str]:
        """Insert the message unless (channel, external_id) exists; one round trip either way.

        Prepared Core statements on the session's connection rather than ORM objects:
        this runs once per message while a sender waits, and building statements or
        running the unit of work costs more CPU than the SQL itself.
        """
        try:
            with transaction(self.sessions) as session:
                conn = session.connection()
                new_id = conn.scalar(_INSERT_NEW[conn.dialect.name], message_values(msg, raw_sha))
                if new_id is None:
                    existing = conn.execute(
                        select(Message.id, Message.status).where(
                            Message.channel == msg.channel, Message.external_id == msg.external_id)
                    ).one()
                    return existing[0], False, existing[1]
                if msg.attachments:
                    conn.execute(AttachmentRow.__table__.insert(), [
                        {"message_id": new_id, "sha256": att.sha256, "filename": att.filename,
                         "content_type": att.content_type, "size": att.size, "role": att.role, "url": att.url}
                        for att in msg.attachments
                    ])
                conn.execute(Event.__table__.insert(), {
                    "actor": self.actor, "kind": "message_received", "message_id": new_id,
                    "data": {"channel": msg.channel, "kind": msg.kind}})
                return new_id, True, "queued"
        except DatabaseUnavailable as exc:
            raise IntakeUnavailable(str(exc)) from exc

    def _enqueue(self, message_id: int, status: str) -> bool:
        """Queue the triage job and keep the row's status honest about it.

        New rows are written as `queued`, so the common path costs one transaction;
        if Redis refuses, the row goes back to `pending` for the sweeper. (A crash
        between commit and enqueue leaves `queued` with no job: the sweeper re-queues
        those too, since it looks at every untriaged message without a live lease.)
        """
        try:
            self.queue.enqueue(triage_job(message_id, self.retries))
        except QueueUnavailable as exc:
            log.warning("queue unavailable; message left pending for the sweeper",
                        extra={"message_id": message_id, "error": str(exc)})
            if status == "queued":
                self._move(message_id, "queued", "pending")
            return False
        if status == "pending":
            self._move(message_id, "pending", "queued")
        return True

    def _move(self, message_id: int, before: str, after: str) -> None:
        try:
            with transaction(self.sessions) as session:
                session.execute(update(Message).where(Message.id == message_id, Message.status == before)
                                .values(status=after))
        except DatabaseUnavailable:
            log.warning("could not update message status", extra={"message_id": message_id, "status": after})


_INSERT_NEW = {
    dialect: insert(Message.__table__).on_conflict_do_nothing(index_elements=["channel", "external_id"])
    .returning(Message.__table__.c.id)
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
"""A new message row unless its (channel, external_id) is stored already, by dialect."""


def message_values(msg: InboundMessage, raw_sha: str) -> dict:
    """The `messages` row for a newly received message, every NOT NULL column set."""
    automatic = None
    if msg.automatic is not None:
        automatic = {
            "kind": msg.automatic.kind,
            "reason": msg.automatic.reason,
            "original_message_id": msg.automatic.original_message_id,
            "failed_recipients": list(msg.automatic.failed_recipients),
            "permanent": msg.automatic.permanent,
        }
    return {
        "channel": msg.channel,
        "external_id": msg.external_id,
        "kind": msg.kind,
        "status": "queued",
        "attempts": 0,
        "sender_kind": msg.sender.kind,
        "sender_value": msg.sender.value,
        "sender_name": msg.sender.display_name,
        "subject": msg.subject,
        "text": msg.text,
        "html": msg.html,
        "received_at": msg.received_at,
        "in_reply_to": msg.in_reply_to,
        "references": list(msg.references),
        "case_reference_hint": msg.case_reference,
        "contact_points": [{"kind": c.kind, "value": c.value} for c in msg.contact_points],
        "automatic": automatic,
        "meta": dict(msg.meta),
        "raw_sha256": raw_sha,
        "raw_content_type": msg.raw_content_type,
        "raw_size": len(msg.raw),
    }
