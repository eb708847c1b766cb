"""STOP/START/HELP: the carrier keywords Twilio honours, mirrored in the system of record.

Twilio's default opt-out handling answers these keywords itself and blocks
sending to a number that said STOP (error 21610). We record the opt-out on the
resident's identity as well, so the decision step sends nothing automatic and
staff see it on the customer. STOP and START are control messages, not
correspondence: they change the identity and leave an event, and open no case.
HELP is different: at a council it may be a cry for help, so it goes to intake
like any other message and a person reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage.store.db import transaction
from triage.store.models import Event
from triage.store.records import link_identity, log_event

Keyword = Literal["stop", "start", "help"]

KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"), "stop"),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "start"),
    **dict.fromkeys(("HELP", "INFO"), "help"),
}
EVENT_KINDS = {"stop": "sms_opted_out", "start": "sms_opted_in"}
ACTOR = "connector:sms"


def detect_keyword(body: str) -> Keyword | None:
    """The keyword when the whole message is one (case and surrounding spaces or full stops ignored)."""
    return KEYWORDS.get(body.strip().rstrip(".!").strip().upper())


def record_opt_change(sessions: sessionmaker[Session], number: str, keyword: Keyword, message_sid: str,
                      now: datetime) -> bool:
    """Set or clear the number's opt-out; False when this MessageSid was already recorded (a retry)."""
    kind = EVENT_KINDS[keyword]
    with transaction(sessions) as session:
        seen = session.scalar(
            select(Event.id).where(Event.kind.in_(EVENT_KINDS.values()),
                                   Event.data["message_sid"].as_string() == message_sid)
        )
        if seen is not None:
            return False
        identity = link_identity(session, "phone", number)
        if keyword == "stop":
            identity.opted_out_at = identity.opted_out_at or now
        else:
            identity.opted_out_at = None
        log_event(session, ACTOR, kind, message_sid=message_sid, identity_id=identity.id,
                  customer_id=identity.customer_id)
    return True
