"""Job functions: load rows, call the pure core, save, queue what comes next.

Every job is idempotent. The triage of a message is one database transaction
that holds the message row locked and ends by marking it `triaged`, so a job
that runs twice, or is killed half way and retried, leaves exactly one result.
Attempts are counted before the work starts, so even a killed worker's attempt
counts, and after the last one the message is marked `failed` for staff to see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from triage import runtime as runtime_module
from triage.classify.prediction import Prediction
from triage.connectors.base import FetchedMedia, TransportError
from triage.connectors.fetchers import build_fetcher
from triage.deadlines import compute_deadlines, sla_state
from triage.outbound import send_reply as send_stored_reply
from triage.outbound import stranded_replies
from triage.queue import QueueUnavailable, media_job, outbound_job, triage_job
from triage.respond import respond
from triage.runtime import Runtime
from triage.store.db import transaction
from triage.store.models import AttachmentRow, Case, Message, Reply
from triage.store.records import (
    find_thread_case,
    link_identity,
    log_event,
    open_case,
    open_case_for_service,
    suggest_links,
)

log = logging.getLogger(__name__)

ACTOR = "system:triage"
FINISHED = ("triaged", "recorded", "failed")
SLA_ORDER = {"ok": 0, "met": 0, "at_risk": 1, "breached": 2}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Outcome:
    """What one triage decided, for logging and for the work queued after commit."""

    message_id: int
    case_id: int | None = None
    action: str = "queue"
    reply_ids: list[int] = field(default_factory=list)
    media_to_fetch: bool = False


# --- triage ----------------------------------------------------------------------


def triage_message(message_id: int) -> str:
    """RQ entry point for the `triage` queue."""
    return run_triage(runtime_module.current(), message_id)


def run_triage(rt: Runtime, message_id: int, now: datetime | None = None) -> str:
    now = now or utcnow()
    attempt = _claim(rt, message_id, now)
    if attempt is None:
        return "nothing to do"
    try:
        with transaction(rt.sessions) as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is None or message.status in FINISHED:
                return "nothing to do"
            outcome = _triage(session, rt, message, now)
            outcome.media_to_fetch = any(map(_at_provider, message.attachments))
    except Exception as exc:
        if attempt >= rt.settings.triage_retries:
            _mark_failed(rt, message_id, exc)
            return "failed"
        _note_error(rt, message_id, exc)
        raise
    _enqueue_replies(rt, outcome.reply_ids)
    if outcome.media_to_fetch:
        _enqueue_media(rt, message_id)
    log.info("message triaged", extra={"message_id": message_id, "case_id": outcome.case_id,
                                       "action": outcome.action})
    return outcome.action


def _claim(rt: Runtime, message_id: int, now: datetime) -> int | None:
    """Count this attempt and take a lease on the message; None when it needs no work."""
    with transaction(rt.sessions) as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status in FINISHED:
            return None
        message.attempts += 1
        message.lease_until = now + timedelta(seconds=rt.settings.lease_seconds)
        if message.status == "pending":
            message.status = "queued"
        return message.attempts


def _note_error(rt: Runtime, message_id: int, exc: Exception) -> None:
    with transaction(rt.sessions) as session:
        message = session.get(Message, message_id)
        if message is not None:
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    log.warning("triage attempt failed; will retry", extra={"message_id": message_id,
                                                            "error": exc.__class__.__name__})


def _mark_failed(rt: Runtime, message_id: int, exc: Exception) -> None:
    with transaction(rt.sessions) as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status in FINISHED:
            return
        message.status = "failed"
        message.lease_until = None
        message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
        log_event(session, ACTOR, "triage_failed", message_id=message_id, attempts=message.attempts,
                  error=exc.__class__.__name__)
    log.error("triage failed after the last attempt; message marked failed for staff",
              extra={"message_id": message_id, "error": exc.__class__.__name__})


def _triage(session: Session, rt: Runtime, message: Message, now: datetime) -> Outcome:
    if message.kind != "contact":
        return _record_automatic_mail(session, message, now)

    identity = link_identity(session, message.sender_kind, message.sender_value, message.sender_name)
    message.customer_id = identity.customer_id
    message.identity_id = identity.id
    for suggestion in suggest_links(session, identity, message.contact_points or []):
        log_event(session, ACTOR, "link_suggested", message_id=message.id,
                  customer_id=suggestion.suggested_customer_id)

    prediction = _classify(rt, message)
    if prediction is not None:
        _store_labels(message, prediction)

    case = find_thread_case(session, message)
    how = "thread"
    if case is None and prediction is not None:
        case = open_case_for_service(session, identity.customer_id, prediction.service)
        how = "open_case_same_service"
    if case is None:
        case = open_case(session, message, now)
        how = "new"
        _label_case(case, prediction)
        _set_deadlines(rt, case, message)
        log_event(session, ACTOR, "case_opened", case_id=case.id, message_id=message.id)
    else:
        log_event(session, ACTOR, "message_attached", case_id=case.id, message_id=message.id, how=how)
        if case.status == "closed":
            case.status = "open"
            case.resolved_at = None
            _set_deadlines(rt, case, message)
            log_event(session, ACTOR, "case_reopened", case_id=case.id, message_id=message.id)
    message.case_id = case.id
    if prediction is not None and prediction.urgent and not case.urgent:
        case.urgent = True
        case.priority = 0
        log_event(session, ACTOR, "marked_urgent", case_id=case.id, message_id=message.id,
                  reasons=list(prediction.urgent_reasons))
    case.updated_at = now

    response = respond(session, rt, message, case, prediction, attached=how != "new", now=now)
    outcome = Outcome(message_id=message.id, case_id=case.id, action=response.action,
                      reply_ids=response.reply_ids)
    message.action = outcome.action
    message.status = "triaged"
    message.triaged_at = now
    message.lease_until = None
    log_event(session, ACTOR, "message_triaged", case_id=case.id, message_id=message.id,
              action=outcome.action, model=message.classifier_version)
    return outcome


def _classify(rt: Runtime, message: Message) -> Prediction | None:
    classifier = rt.classifier
    if classifier is None:
        return None
    return classifier.predict(message.text, channel=message.channel, subject=message.subject)


def _store_labels(message: Message, prediction: Prediction) -> None:
    message.service = prediction.service
    message.contact_type = prediction.contact_type
    message.avoidable_reason = prediction.avoidable_reason
    message.urgent = prediction.urgent
    message.language = prediction.language
    message.confidence = dict(prediction.confidence)
    message.entities = {k: list(v) for k, v in prediction.entities.items()}
    message.classifier_version = prediction.model_version


def _label_case(case: Case, prediction: Prediction | None) -> None:
    if prediction is None:
        return
    case.service = prediction.service
    case.contact_type = prediction.contact_type
    case.avoidable_reason = prediction.avoidable_reason
    case.language = prediction.language
    case.needs_interpretation = prediction.language == "other"


def _set_deadlines(rt: Runtime, case: Case, message: Message) -> None:
    policy = rt.council.deadlines.for_labels(case.service, case.contact_type)
    deadlines = compute_deadlines(message.received_at, rt.settings.region, policy)
    case.processed_by = deadlines.processed_by
    case.respond_by = deadlines.respond_by
    case.promised_by = None


def _record_automatic_mail(session: Session, message: Message, now: datetime) -> Outcome:
    """Bounces and auto-replies are not contacts: record them against the reply they concern."""
    info = message.automatic or {}
    reply = None
    original = info.get("original_message_id")
    if original:
        reply = session.scalars(select(Reply).where(Reply.provider_id == original)).first()
    if reply is not None:
        message.case_id = reply.case_id
        if info.get("kind") == "bounce" and info.get("permanent"):
            reply.status = "failed"
            reply.error = f"bounced: {info.get('reason', 'permanent failure')}"[:2000]
            log_event(session, ACTOR, "reply_bounced", case_id=reply.case_id, message_id=message.id,
                      reply_id=reply.id)
    log_event(session, ACTOR, "automatic_mail_recorded", message_id=message.id,
              case_id=message.case_id, mail_kind=info.get("kind"), linked_reply=reply.id if reply else None)
    message.status = "recorded"
    message.action = "record"
    message.triaged_at = now
    message.lease_until = None
    return Outcome(message_id=message.id, case_id=message.case_id, action="record")


def _enqueue_replies(rt: Runtime, reply_ids: list[int]) -> None:
    for reply_id in reply_ids:
        try:
            rt.queue.enqueue(outbound_job(reply_id))
        except QueueUnavailable:
            log.warning("queue unavailable; reply left queued for the sweeper", extra={"reply_id": reply_id})


def _enqueue_media(rt: Runtime, message_id: int) -> None:
    try:
        rt.queue.enqueue(media_job(message_id))
    except QueueUnavailable:
        log.warning("queue unavailable; media left at the provider", extra={"message_id": message_id})


# --- media -----------------------------------------------------------------------

MEDIA_ACTOR = "system:media"
GENERIC_TYPE = "application/octet-stream"


def _at_provider(attachment: AttachmentRow) -> bool:
    """An attachment SMS or Telegram left at the provider that nobody has fetched yet (the sweeper's query in
    `requeue_stranded` asks the same in SQL)."""
    return attachment.role == "to_fetch" and attachment.sha256 is None


def fetch_media(message_id: int) -> str:
    """RQ entry point: download the message's attachments that SMS and Telegram left at the provider."""
    return run_fetch_media(runtime_module.current(), message_id)


def run_fetch_media(rt: Runtime, message_id: int) -> str:
    """Fetch each `to_fetch` attachment without holding a transaction over the download; store it, then
    record it. A permanent failure marks that attachment `fetch_failed`; a temporary one is raised after
    the others are done, so RQ retries and the retry fetches only what is still missing."""
    with rt.sessions() as session:
        message = session.get(Message, message_id)
        if message is None:
            return "nothing to do"
        channel = message.channel
        todo = [(a.id, a.url or "") for a in message.attachments if _at_provider(a)]
    retry: TransportError | None = None
    for attachment_id, url in todo:
        try:
            media = build_fetcher(channel, rt.settings).fetch(url)
        except TransportError as exc:
            if not exc.permanent:
                retry = exc
                continue
            _record_fetch(rt, attachment_id, error=exc)
            continue
        _record_fetch(rt, attachment_id, media=media, sha256=rt.blobs.put(media.data))
    if retry is not None:
        log.warning("media fetch failed; will retry", extra={"message_id": message_id, "error": str(retry)})
        raise retry
    return f"{len(todo)} fetched or failed" if todo else "nothing to do"


def _record_fetch(rt: Runtime, attachment_id: int, *, media: FetchedMedia | None = None, sha256: str | None = None,
                  error: TransportError | None = None) -> None:
    with transaction(rt.sessions) as session:
        row = session.get(AttachmentRow, attachment_id, with_for_update=True)
        if row is None or not _at_provider(row):
            return  # another run got here first
        case_id = row.message.case_id
        if media is None:
            row.role = "fetch_failed"
            log_event(session, MEDIA_ACTOR, "attachment_fetch_failed", case_id=case_id, message_id=row.message_id,
                      attachment_id=row.id, error=str(error)[:500])
            return
        row.sha256, row.size, row.role = sha256, len(media.data), "attachment"
        if media.content_type and media.content_type != GENERIC_TYPE and row.content_type == GENERIC_TYPE:
            row.content_type = media.content_type[:200]
        log_event(session, MEDIA_ACTOR, "attachment_fetched", case_id=case_id, message_id=row.message_id,
                  attachment_id=row.id, size=row.size, content_type=row.content_type)


# --- outbound --------------------------------------------------------------------


def send_reply(reply_id: int) -> str:
    """RQ entry point for the `outbound` queue: send one stored reply at most once."""
    return send_stored_reply(runtime_module.current(), reply_id)


# --- maintenance -------------------------------------------------------------------


def sweep_pending() -> int:
    """RQ entry point: re-queue stored work that is not on the queue (Redis was down, a worker died)."""
    return requeue_stranded(runtime_module.current())


QUEUED_GRACE = timedelta(minutes=2)
"""A `queued` message younger than this has its job on Redis unless intake crashed between its commit and
its enqueue; the sweeper leaves it alone, so a burst of intake costs no Redis round trips per sweep."""
MEDIA_RETRY_WINDOW = timedelta(days=7)
"""How long the sweeper keeps re-queuing downloads of a message's media; providers delete media in time,
and then the fetch fails permanently anyway."""


def requeue_stranded(rt: Runtime, now: datetime | None = None) -> int:
    """Queue what the database says is undone and not on its way: `pending` messages (Redis refused them),
    `queued` ones older than `QUEUED_GRACE` with no worker on them, expired leases, stuck replies, and media
    still at the provider (Redis was down after triage, or the job used up its retries)."""
    now = now or utcnow()
    with transaction(rt.sessions) as session:
        rows = session.execute(
            select(Message.id, Message.lease_until).where(
                Message.status.in_(("pending", "queued")),
                or_(Message.lease_until < now,
                    Message.lease_until.is_(None) & (Message.status == "pending"),
                    Message.lease_until.is_(None) & (Message.stored_at < now - QUEUED_GRACE)),
            ).order_by(Message.id).limit(5000)
        ).all()
        replies = stranded_replies(session, now, rt.settings.lease_seconds)
        media = session.scalars(
            select(Message.id).distinct().join(AttachmentRow, AttachmentRow.message_id == Message.id).where(
                Message.status == "triaged", AttachmentRow.role == "to_fetch", AttachmentRow.sha256.is_(None),
                Message.stored_at < now - QUEUED_GRACE, Message.stored_at > now - MEDIA_RETRY_WINDOW,
            ).order_by(Message.id).limit(1000)
        ).all()
    queued = 0
    try:
        for message_id, lease_until in rows:
            expired = lease_until is not None
            if rt.queue.enqueue(triage_job(message_id, rt.settings.triage_retries), force=expired):
                queued += 1
            if expired:
                with transaction(rt.sessions) as session:
                    log_event(session, ACTOR, "lease_expired_requeued", message_id=message_id)
        for reply_id, stuck in replies:
            if rt.queue.enqueue(outbound_job(reply_id), force=stuck):
                queued += 1
        for message_id in media:  # a no-op while its job waits on Redis or for a retry
            if rt.queue.enqueue(media_job(message_id)):
                queued += 1
    except QueueUnavailable:
        log.warning("queue still unavailable; sweep will run again")
        return queued
    with transaction(rt.sessions) as session:
        session.execute(update(Message).where(Message.id.in_([r[0] for r in rows]),
                                              Message.status == "pending").values(status="queued"))
    if queued:
        log.info("sweeper re-queued work", extra={"count": queued})
    return queued


def sweep_sla() -> int:
    """RQ entry point: flag open cases at risk of or past their deadlines."""
    return flag_sla(runtime_module.current())


def flag_sla(rt: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    region = rt.settings.region
    changed = 0
    with transaction(rt.sessions) as session:
        cases = session.scalars(select(Case).where(Case.status != "closed")).all()
        for case in cases:
            states = []
            if case.processed_by:
                states.append(sla_state(now, due=case.processed_by, done_at=case.processed_at, region=region))
            if case.measured_respond_by:
                states.append(sla_state(now, due=case.measured_respond_by, done_at=case.responded_at,
                                        region=region))
            worst = max(states, key=SLA_ORDER.__getitem__, default="ok")
            worst = "ok" if worst == "met" else worst
            if worst != case.sla_state:
                log_event(session, "system:sla", f"sla_{worst}", case_id=case.id, previous=case.sla_state)
                case.sla_state = worst
                changed += 1
    return changed
