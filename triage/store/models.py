"""The system of record: every message, customer, case, reply and event.

The schema is created by the Alembic migrations in `migrations/`; these classes
must stay in step with them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite wants INTEGER PRIMARY KEY for autoincrement; PostgreSQL gets BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class UtcDateTime(TypeDecorator):
    """Timezone-aware timestamps on every database.

    PostgreSQL keeps the offset; SQLite keeps none and would silently store a BST
    wall-clock time as if it were UTC. So SQLite gets UTC without an offset, and
    every value read back is made aware again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or dialect.name != "sqlite":
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a timezone-aware column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utc_timestamp() -> UtcDateTime:
    return UtcDateTime()


class Customer(Base):
    """One resident, however many channels they use (the single view)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())

    identities: Mapped[list[Identity]] = relationship(back_populates="customer")


class Identity(Base):
    """One way of reaching a customer: an email address, phone number, chat id or postal address."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identities_kind_value"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    display_name: Mapped[str | None] = mapped_column(String(200))
    opted_out_at: Mapped[datetime | None] = mapped_column(utc_timestamp())
    """SMS STOP: nothing automatic is sent to this identity while set."""
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())

    customer: Mapped[Customer] = relationship(back_populates="identities")


class LinkSuggestion(Base):
    """A possible match between an identity and an existing customer, for staff to confirm (never merged silently)."""

    __tablename__ = "link_suggestions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    suggested_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    evidence: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(utc_timestamp())


class Case(Base):
    """A piece of work for the correspondence team, with its labels and deadlines."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_priority", "status", "priority"),
        Index("ix_cases_customer_service", "customer_id", "service"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    """open (with the team), waiting (on the resident or back office), closed."""
    channel: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(50))
    contact_type: Mapped[str | None] = mapped_column(String(50))
    avoidable_reason: Mapped[str | None] = mapped_column(String(50))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(10))
    needs_interpretation: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    """Lower is sooner; urgent cases get 0 so they sit at the top of the queue."""
    assignee: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(utc_timestamp())
    processed_by: Mapped[date | None] = mapped_column(Date)
    respond_by: Mapped[date | None] = mapped_column(Date)
    promised_by: Mapped[date | None] = mapped_column(Date)
    processed_at: Mapped[datetime | None] = mapped_column(utc_timestamp())
    responded_at: Mapped[datetime | None] = mapped_column(utc_timestamp())
    resolved_at: Mapped[datetime | None] = mapped_column(utc_timestamp())
    resolution: Mapped[str | None] = mapped_column(String(50))
    sla_state: Mapped[str] = mapped_column(String(20), default="ok")
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())

    messages: Mapped[list[Message]] = relationship(back_populates="case")

    @property
    def measured_respond_by(self) -> date | None:
        """What the response is measured against: a holding reply's promise, else the standard."""
        return self.promised_by or self.respond_by


class Message(Base):
    """One inbound message exactly as received, plus what triage made of it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="contact")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending (stored, not yet on the queue), queued, triaged, recorded (automatic mail), failed."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(utc_timestamp())

    sender_kind: Mapped[str] = mapped_column(String(20))
    sender_value: Mapped[str] = mapped_column(String(500))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(utc_timestamp())
    stored_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    references: Mapped[list] = mapped_column(JSON, default=list)
    case_reference_hint: Mapped[str | None] = mapped_column(String(20))
    contact_points: Mapped[list] = mapped_column(JSON, default=list)
    automatic: Mapped[dict | None] = mapped_column(JSON)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw_content_type: Mapped[str] = mapped_column(String(100))
    raw_size: Mapped[int] = mapped_column(BigInteger)

    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    service: Mapped[str | None] = mapped_column(String(50))
    contact_type: Mapped[str | None] = mapped_column(String(50))
    avoidable_reason: Mapped[str | None] = mapped_column(String(50))
    urgent: Mapped[bool | None] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(10))
    confidence: Mapped[dict | None] = mapped_column(JSON)
    entities: Mapped[dict | None] = mapped_column(JSON)
    classifier_version: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str | None] = mapped_column(String(20))
    triaged_at: Mapped[datetime | None] = mapped_column(utc_timestamp())

    case: Mapped[Case | None] = relationship(back_populates="messages")
    attachments: Mapped[list[AttachmentRow]] = relationship(back_populates="message")


class AttachmentRow(Base):
    """A file that came with a message; the bytes live once in the blob store under their hash."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Reply(Base):
    """An outbound reply; `idempotency_key` makes sure each is sent at most once."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(500))
    template: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10), default="en")
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """queued, sending, sent, delivered, sent_to_print, failed, suppressed, unknown (interrupted mid-send)."""
    provider_id: Mapped[str | None] = mapped_column(String(500), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(utc_timestamp())
    delivered_at: Mapped[datetime | None] = mapped_column(utc_timestamp())


class Event(Base):
    """Append-only audit log: every state change, who or what made it, when (triggers forbid edits)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("replies.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class TrainingSample(Base):
    """A labelled text for retraining: imported, or a label a supervisor corrected."""

    __tablename__ = "training_samples"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String(50))
    contact_type: Mapped[str] = mapped_column(String(50))
    avoidable_reason: Mapped[str] = mapped_column(String(50))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(10), default="en")
    source: Mapped[str] = mapped_column(String(20))
    """correction (staff fixed a label) or import."""
    labelled_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())


class ChatSession(Base):
    """A web-chat conversation; the token is what the widget presents on every call."""

    __tablename__ = "chat_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
    last_seen_at: Mapped[datetime | None] = mapped_column(utc_timestamp())


class ProcessedFile(Base):
    """A scan taken from the post inbox, by content hash, so the same file is never taken twice."""

    __tablename__ = "processed_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())



class StaffUser(Base):
    """A member of the correspondence team (`agent`) or a `supervisor`; the password is kept as a scrypt hash."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(utc_timestamp(), server_default=func.now())
