"""The decision step of the triage job: gather what the policy needs, then carry out its decision.

Runs inside the triage transaction, so the case, its replies and their events
commit together or not at all. Reply bodies are rendered here, once, and stored;
the outbound jobs that send them after commit render nothing new. Each reply's
idempotency key is `<message id>:<template>`, unique in the database, so one
message can never produce the same reply twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.classify.prediction import Prediction
from triage.deadlines import LONDON, london_date
from triage.decide import Decision, Labels, Policy, Situation, decide, resolve_thresholds
from triage.runtime import Runtime
from triage.store.models import Case, Identity, Message, Reply
from triage.store.records import log_event
from triage.templates.catalogue import DUTY_ALERT, SERVICE_TEAMS
from triage.templates.names import salutation_name
from triage.templates.render import Rendered, render_reply

log = logging.getLogger(__name__)

ACTOR = "system:decide"
RATE_WINDOW = timedelta(hours=1)
IDENTITY_KIND = {"email": "email", "sms": "phone", "telegram": "telegram", "webchat": "webchat", "post": "postal"}
"""The identity kind a reply channel's recipient is stored under."""


@dataclass(frozen=True)
class Route:
    """Where a reply goes: the channel the message came in on, unless a letter gave a quicker way."""

    channel: str
    recipient: str
    changed_from: str | None = None


@dataclass
class Response:
    action: str
    reply_ids: list[int] = field(default_factory=list)
    """Replies to send once the transaction has committed."""


def is_mobile(number: str) -> bool:
    """Whether an E.164 number can take an SMS (UK 07 numbers, including Ofcom's drama range)."""
    if number.startswith("+447"):
        return not number.startswith(("+4470", "+4476"))  # personal numbers and pagers
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def reply_route(message: Message) -> Route:
    """Reply on the inbound channel; email honours Reply-To; a letter that gave an email or mobile is answered there."""
    if message.channel == "email":
        reply_to = (message.meta or {}).get("reply_to") or []
        return Route("email", reply_to[0] if reply_to else message.sender_value)
    if message.channel == "post":
        points = message.contact_points or []
        for point in points:
            if point.get("kind") == "email":
                return Route("email", point["value"], changed_from="post")
        for point in points:
            if point.get("kind") == "phone" and is_mobile(point.get("value", "")):
                return Route("sms", point["value"], changed_from="post")
    return Route(message.channel, message.sender_value)


def reply_policy(rt: Runtime) -> Policy:
    """Thresholds: conservative defaults, then the model card's, then any set in the settings."""
    return Policy(thresholds=resolve_thresholds(card_thresholds(rt), rt.settings.auto_reply_thresholds),
                  replies_per_hour=rt.settings.auto_replies_per_hour)


def card_thresholds(rt: Runtime) -> Mapping[str, float] | None:
    """The per-head thresholds the classifier's model card carries, chosen on its held-out split."""
    card = getattr(rt.classifier, "card", None) or {}
    return card.get("thresholds")


def labels_of(prediction: Prediction | None) -> Labels | None:
    if prediction is None:
        return None
    return Labels(prediction.service, prediction.contact_type, prediction.avoidable_reason, prediction.urgent,
                  prediction.language, prediction.confidence)


def situation_for(session: Session, message: Message, route: Route, *, attached: bool,
                  now: datetime) -> Situation:
    opted_out = session.scalar(
        select(Identity.opted_out_at).where(Identity.kind == IDENTITY_KIND[route.channel],
                                            Identity.value == route.recipient)
    ) is not None
    recent = session.scalar(
        select(func.count()).select_from(Reply).where(
            Reply.channel == route.channel, Reply.recipient == route.recipient, Reply.automatic.is_(True),
            Reply.template != DUTY_ALERT, Reply.status != "suppressed", Reply.created_at >= now - RATE_WINDOW)
    )
    meta = message.meta or {}
    robot = meta.get("suppress_auto_reply")
    return Situation(channel=route.channel, recipient=route.recipient, joined_open_case=attached,
                     opted_out=opted_out, replies_last_hour=recent or 0, robot=str(robot) if robot else None,
                     needs_reading=bool(meta.get("needs_reading")))


def respond(session: Session, rt: Runtime, message: Message, case: Case, prediction: Prediction | None, *,
            attached: bool, now: datetime) -> Response:
    """Decide, store the reply (or the record of one suppressed), close or queue the case, alert the duty team."""
    route = reply_route(message)
    if route.changed_from:
        log_event(session, ACTOR, "reply_channel_changed", case_id=case.id, message_id=message.id,
                  channel_from=route.changed_from, channel_to=route.channel)
    situation = situation_for(session, message, route, attached=attached, now=now)
    decision = decide(labels_of(prediction), situation, reply_policy(rt))
    if decision.needs_interpretation:
        case.needs_interpretation = True

    reply = _store_reply(session, rt, message, case, route, decision, now)
    response = Response(decision.action, [reply.id] if reply.status == "queued" else [])
    if decision.action == "auto_reply":
        case.status = "closed"
        case.resolution = "auto_replied"
        case.processed_at = case.responded_at = case.resolved_at = now
        log_event(session, ACTOR, "auto_replied", case_id=case.id, message_id=message.id, reply_id=reply.id,
                  template=decision.template)
    else:
        log_event(session, ACTOR, "queued_for_person", case_id=case.id, message_id=message.id,
                  reasons=list(decision.reasons), classified=prediction is not None)
    if decision.alert_duty:
        alert = _alert_duty(session, rt, message, case, prediction, resident_told=decision.sends_reply, now=now)
        if alert is not None:
            response.reply_ids.append(alert.id)
    return response


def _store_reply(session: Session, rt: Runtime, message: Message, case: Case, route: Route, decision: Decision,
                 now: datetime) -> Reply:
    values = {"reference": case.reference, "respond_by": case.measured_respond_by,
              "needs_interpretation": decision.needs_interpretation,
              "resident_name": salutation_name(message.sender_name)}
    rendered = render_reply(decision.template, route.channel, decision.language, values, rt.council,
                            today=london_date(now))
    reply = _reply_row(message, case, route.channel, route.recipient, decision.template, decision.language,
                       rendered, now)
    reply.meta = {**reply.meta, **_threading(message, route)}
    if decision.suppressed:
        reply.status = "suppressed"
        reply.error = decision.suppressed
    session.add(reply)
    session.flush()
    log_event(session, ACTOR, "reply_suppressed" if decision.suppressed else "reply_created", case_id=case.id,
              message_id=message.id, reply_id=reply.id, template=decision.template, channel=route.channel,
              reason=decision.suppressed)
    return reply


def _threading(message: Message, route: Route) -> dict:
    """In-Reply-To and References, so an emailed reply sits in the resident's thread."""
    if route.channel != "email" or message.channel != "email":
        return {}
    return {"in_reply_to": message.external_id, "references": [*(message.references or []), message.external_id]}


def _reply_row(message: Message, case: Case, channel: str, recipient: str, template: str, language: str,
               rendered: Rendered, now: datetime) -> Reply:
    return Reply(
        idempotency_key=f"{message.id}:{template}", case_id=case.id, message_id=message.id, channel=channel,
        recipient=recipient, template=template, language=language, automatic=True, subject=rendered.subject,
        body_text=rendered.text, body_html=rendered.html, status="queued", attempts=0,
        meta={"letter": rendered.letter.as_dict()} if rendered.letter else {}, created_by=ACTOR, created_at=now,
    )


def _alert_duty(session: Session, rt: Runtime, message: Message, case: Case, prediction: Prediction | None, *,
                resident_told: bool, now: datetime) -> Reply | None:
    """Email the duty address at once; without one configured, say so loudly (the case is still at the top)."""
    duty = rt.settings.duty_email
    if not duty:
        log_event(session, ACTOR, "duty_alert_not_configured", case_id=case.id, message_id=message.id)
        log.error("urgent message but no duty address is configured (TRIAGE_DUTY_EMAIL)",
                  extra={"message_id": message.id, "case_id": case.id})
        return None
    reasons = ", ".join(prediction.urgent_reasons) if prediction and prediction.urgent_reasons else \
        "the classifier judged it urgent"
    values = {
        "reference": case.reference, "channel": message.channel,
        "received": message.received_at.astimezone(LONDON).strftime("%A %d %B %Y at %H:%M"),
        "service": SERVICE_TEAMS.get(case.service or "", {}).get("en", case.service or "not known"),
        "reasons": reasons, "text": message.text, "resident_told": resident_told,
    }
    rendered = render_reply(DUTY_ALERT, "email", "en", values, rt.council, today=london_date(now))
    alert = _reply_row(message, case, "email", duty, DUTY_ALERT, "en", rendered, now)
    session.add(alert)
    session.flush()
    log_event(session, ACTOR, "duty_alerted", case_id=case.id, message_id=message.id, reply_id=alert.id)
    return alert
