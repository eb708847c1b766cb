"""Send one stored reply, at most once, whatever happens to the worker.

The reply is marked `sending` in its own transaction before the network call. A
later attempt that finds it still `sending` cannot tell whether the first one
got through (the worker may have died just after the provider accepted it), so
it resends only through a sender whose provider recognises a repeat by our
idempotency key (`resend_safe`: email reuses the Message-ID derived from it);
otherwise it marks the reply `unknown` for staff to check, because a resident
must never get the same reply twice. A temporary `TransportError` puts the
reply back to `queued` and raises, so RQ retries it with backoff; a permanent
one marks it `failed`, visible to staff.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.connectors.base import OutboundMessage, Sender, SendResult, TransportError
from triage.runtime import Runtime
from triage.store.db import transaction
from triage.store.models import Case, Reply
from triage.store.records import log_event

log = logging.getLogger(__name__)

ACTOR = "system:outbound"
SENDABLE = ("queued", "sending")


def resend_safe(sender: Sender) -> bool:
    """Whether the provider dedupes a second send of the same reply (senders opt in with `resend_safe = True`)."""
    return bool(getattr(sender, "resend_safe", False))


def send_reply(rt: Runtime, reply_id: int, now: datetime | None = None) -> str:
    """Send the reply if it still needs sending; returns its status afterwards (or `nothing to do`)."""
    now = now or datetime.now(UTC)
    with transaction(rt.sessions) as session:
        reply = session.get(Reply, reply_id)
        if reply is None or reply.status not in SENDABLE:
            return "nothing to do"
        channel = reply.channel
    try:
        sender = rt.senders[channel]
    except TransportError as exc:
        return _attempt_failed(rt, reply_id, exc)
    outbound = _claim(rt, reply_id, sender, now)
    if outbound is None:
        return "nothing to do"
    try:
        result = sender.send(outbound)
    except TransportError as exc:
        return _attempt_failed(rt, reply_id, exc)
    _mark_sent(rt, reply_id, result, now)
    return result.status


def stranded_replies(session: Session, now: datetime, lease_seconds: int) -> list[tuple[int, bool]]:
    """Replies the sweeper should put back on the queue, each with whether its job must be forced.

    `queued` ones may simply have missed the queue; `sending` ones whose attempt
    began longer ago than a lease had their worker die mid-send, and their RQ
    job may still look started, so it is replaced.
    """
    queued = session.scalars(select(Reply.id).where(Reply.status == "queued").order_by(Reply.id).limit(5000))
    stuck = session.scalars(select(Reply).where(Reply.status == "sending").order_by(Reply.id).limit(5000))
    cutoff = now - timedelta(seconds=lease_seconds)
    return [(reply_id, False) for reply_id in queued] + [
        (reply.id, True) for reply in stuck
        if datetime.fromisoformat(str((reply.meta or {}).get("sending_since", cutoff.isoformat()))) <= cutoff
    ]


def _claim(rt: Runtime, reply_id: int, sender: Sender, now: datetime) -> OutboundMessage | None:
    """Mark the reply `sending` and count the attempt, or decide a blind resend is unsafe."""
    with transaction(rt.sessions) as session:
        reply = session.get(Reply, reply_id, with_for_update=True)
        if reply is None or reply.status not in SENDABLE:
            return None
        if reply.status == "sending":
            if not resend_safe(sender):
                reply.status = "unknown"
                reply.error = ("an earlier attempt was interrupted after it started sending; check with the "
                               "resident or the provider before sending again")
                log_event(session, ACTOR, "reply_outcome_unknown", case_id=reply.case_id, reply_id=reply.id,
                          attempts=reply.attempts)
                log.warning("reply may have been sent by an interrupted attempt; left for staff",
                            extra={"reply_id": reply.id})
                return None
            log_event(session, ACTOR, "reply_resent_after_interruption", case_id=reply.case_id, reply_id=reply.id)
        reply.status = "sending"
        reply.attempts += 1
        reply.meta = {**(reply.meta or {}), "sending_since": now.isoformat()}
        case = session.get(Case, reply.case_id) if reply.case_id else None
        return _outbound_message(reply, case)


def _outbound_message(reply: Reply, case: Case | None) -> OutboundMessage:
    meta = reply.meta or {}
    return OutboundMessage(
        reply_id=reply.id, channel=reply.channel, recipient=reply.recipient, text=reply.body_text or "",
        subject=reply.subject, html=reply.body_html, language=reply.language, automatic=reply.automatic,
        case_reference=case.reference if case else None, in_reply_to=meta.get("in_reply_to"),
        references=tuple(meta.get("references") or ()),
        meta={"idempotency_key": reply.idempotency_key, "template": reply.template,
              **({"letter": meta["letter"]} if "letter" in meta else {})},
    )


def _attempt_failed(rt: Runtime, reply_id: int, exc: TransportError) -> str:
    """Permanent: the reply is `failed` for staff. Temporary: back to `queued`, and raise so RQ retries."""
    with transaction(rt.sessions) as session:
        reply = session.get(Reply, reply_id, with_for_update=True)
        if reply is None:
            return "nothing to do"
        reply.error = str(exc)[:2000]
        if exc.permanent:
            reply.status = "failed"
            log_event(session, ACTOR, "reply_failed", case_id=reply.case_id, reply_id=reply.id, error=str(exc)[:500])
        else:
            reply.status = "queued"
    if exc.permanent:
        log.error("reply failed permanently; left for staff", extra={"reply_id": reply_id, "error": str(exc)})
        return "failed"
    log.warning("reply not sent yet; will retry", extra={"reply_id": reply_id, "error": str(exc)})
    raise exc


def _mark_sent(rt: Runtime, reply_id: int, result: SendResult, now: datetime) -> None:
    with transaction(rt.sessions) as session:
        reply = session.get(Reply, reply_id, with_for_update=True)
        reply.status = result.status
        reply.provider_id = result.provider_id or reply.provider_id
        reply.sent_at = now
        reply.error = None
        log_event(session, ACTOR, "reply_sent", case_id=reply.case_id, reply_id=reply.id, channel=reply.channel,
                  status=result.status)
    log.info("reply sent", extra={"reply_id": reply_id, "status": result.status})
