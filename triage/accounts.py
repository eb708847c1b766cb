"""Staff accounts: scrypt password hashes with a salt per user, and sign-in checks.

Hashes are stored as `scrypt$n$r$p$salt$hash` (base64), so the cost can be raised
later without invalidating existing passwords. A failed sign-in for an unknown
user still computes a hash, so timing does not reveal which usernames exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.store.models import Event, StaffUser
from triage.store.records import log_event

ROLES = ("agent", "supervisor")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt cost: 16 MiB of memory and tens of milliseconds per hash."""
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MAX_FAILED_SIGN_INS = 10
SIGN_IN_LOCKOUT = timedelta(minutes=15)
"""After this many wrong passwords for one username within this long, that username is refused without a
password check until the oldest failure ages out: a guessing attack gets 40 tries an hour, not thousands,
and a member of staff who mistypes is not locked out for long."""


class AccountError(ValueError):
    """A request about an account that cannot be carried out (bad name, role, password or duplicate)."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash() -> str:
    """A hash to check against when the user is unknown, so that answer takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def add_user(session: Session, username: str, password: str, role: str, *, actor: str) -> StaffUser:
    """Create an active account; refuses weak passwords, unknown roles and names already taken."""
    if not _USERNAME.match(username):
        raise AccountError("username must be 2-63 lower-case letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountError(f"user {username} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    log_event(session, actor, "staff_user_added", username=username, role=role)
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active user with this name and password, else None."""
    user = session.scalars(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    if user is None or not user.active:
        verify_password(password, _dummy_hash())
        return None
    return user if verify_password(password, user.password_hash) else None


def sign_in_actor(username: str) -> str:
    """Who a sign-in attempt is, in the audit log: the name that was tried (not a resident's data)."""
    return f"sign-in:{username.strip().lower()[:80]}"


def record_failed_sign_in(session: Session, username: str) -> None:
    log_event(session, sign_in_actor(username), "staff_sign_in_failed")


def sign_in_locked(session: Session, username: str, now: datetime) -> bool:
    """Whether this username has had `MAX_FAILED_SIGN_INS` wrong passwords within `SIGN_IN_LOCKOUT`."""
    failures = session.scalar(select(func.count()).select_from(Event).where(
        Event.kind == "staff_sign_in_failed", Event.actor == sign_in_actor(username),
        Event.at > now - SIGN_IN_LOCKOUT))
    return failures >= MAX_FAILED_SIGN_INS


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
