"""Chat sessions: the widget holds a random token; the database keeps only its SHA-256.

A leaked database therefore cannot be used to read or write anyone's chat, and
the session's `public_id` (the resident's identity and the replies' recipient)
is never enough on its own to act as them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage.store.db import transaction
from triage.store.models import ChatSession


@dataclass(frozen=True)
class NewSession:
    public_id: str
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(sessions: sessionmaker[Session], client_ip: str | None, now: datetime) -> NewSession:
    new = NewSession(public_id=f"wc-{secrets.token_hex(12)}", token=secrets.token_urlsafe(32))
    with transaction(sessions) as session:
        session.add(ChatSession(token_sha256=token_hash(new.token), public_id=new.public_id,
                                client_ip=client_ip, created_at=now, last_seen_at=now))
    return new


def session_for_token(sessions: sessionmaker[Session], token: str, now: datetime,
                      idle_limit: timedelta) -> str | None:
    """The public id of the session this token opens (and note it was seen), or None.

    A session idle for longer than `idle_limit` no longer opens: a token copied
    from a shared computer days later cannot read that resident's conversation.
    """
    with transaction(sessions) as session:
        chat = session.scalars(select(ChatSession).where(ChatSession.token_sha256 == token_hash(token))).first()
        if chat is None or (chat.last_seen_at or chat.created_at) < now - idle_limit:
            return None
        chat.last_seen_at = now
        return chat.public_id
