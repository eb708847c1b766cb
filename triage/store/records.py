"""Small operations on the system of record, each inside a caller's transaction.

These know about rows, not about channels or models: they link a sender to a
customer, find the case a message belongs to, open a case and log events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.message import format_case_reference
from triage.store.models import Case, Customer, Event, Identity, LinkSuggestion, Message, Reply

OPEN_STATUSES = ("open", "waiting")


def log_event(session: Session, actor: str, kind: str, *, case_id: int | None = None,
              message_id: int | None = None, reply_id: int | None = None, **data: object) -> None:
    session.add(Event(actor=actor, kind=kind, case_id=case_id, message_id=message_id,
                      reply_id=reply_id, data=data))


def link_identity(session: Session, kind: str, value: str, display_name: str | None = None) -> Identity:
    """The identity for this sender, creating it (and a new customer) the first time."""
    identity = session.scalars(
        select(Identity).where(Identity.kind == kind, Identity.value == value)
    ).first()
    if identity is None:
        customer = Customer(display_name=display_name)
        session.add(customer)
        session.flush()
        identity = Identity(customer_id=customer.id, kind=kind, value=value, display_name=display_name)
        session.add(identity)
        session.flush()
    elif display_name and not identity.display_name:
        identity.display_name = display_name
    return identity


def suggest_links(session: Session, identity: Identity, contact_points: list[dict]) -> list[LinkSuggestion]:
    """Contact details found in a message that belong to another customer become suggestions for staff."""
    suggestions = []
    for point in contact_points:
        other = session.scalars(
            select(Identity).where(Identity.kind == point["kind"], Identity.value == point["value"])
        ).first()
        if other is None or other.customer_id == identity.customer_id:
            continue
        exists = session.scalars(
            select(LinkSuggestion).where(
                LinkSuggestion.identity_id == identity.id,
                LinkSuggestion.suggested_customer_id == other.customer_id,
            )
        ).first()
        if exists is None:
            suggestion = LinkSuggestion(identity_id=identity.id, suggested_customer_id=other.customer_id,
                                        evidence=f"{point['kind']} given in a message", status="pending")
            session.add(suggestion)
            suggestions.append(suggestion)
    session.flush()
    return suggestions


def find_thread_case(session: Session, message: Message) -> Case | None:
    """The case this message continues: by quoted reference, else by In-Reply-To/References."""
    if message.case_reference_hint:
        case = session.scalars(select(Case).where(Case.reference == message.case_reference_hint)).first()
        if case is not None:
            return case
    ids = [i for i in [message.in_reply_to, *(message.references or [])] if i]
    if not ids:
        return None
    earlier = session.scalars(
        select(Message.case_id).where(
            Message.channel == message.channel, Message.external_id.in_(ids), Message.case_id.is_not(None)
        )
    ).first()
    if earlier is None:
        earlier = session.scalars(
            select(Reply.case_id).where(Reply.provider_id.in_(ids), Reply.case_id.is_not(None))
        ).first()
    return session.get(Case, earlier) if earlier is not None else None


def open_case_for_service(session: Session, customer_id: int, service: str | None) -> Case | None:
    if service is None:
        return None
    return session.scalars(
        select(Case).where(Case.customer_id == customer_id, Case.service == service,
                           Case.status.in_(OPEN_STATUSES)).order_by(Case.id)
    ).first()


def open_case(session: Session, message: Message, now: datetime) -> Case:
    case = Case(customer_id=message.customer_id, status="open", channel=message.channel,
                received_at=message.received_at, created_at=now, updated_at=now, priority=50,
                urgent=False, needs_interpretation=False, sla_state="ok")
    session.add(case)
    session.flush()
    case.reference = format_case_reference(case.id)
    return case


def customer_history(session: Session, customer_id: int, limit: int = 200) -> list[Message]:
    """Every message from this resident across channels, newest first (the single view)."""
    return list(session.scalars(
        select(Message).where(Message.customer_id == customer_id)
        .order_by(Message.received_at.desc()).limit(limit)
    ))
