"""Sign-in for the staff pages: a signed session cookie, CSRF tokens, and role checks done on the server.

The cookie (Starlette's SessionMiddleware, signed with `TRIAGE_SECRET_KEY`)
holds only the user's id and a CSRF token; the account is read again on every
request, so a deactivated account or a changed role takes effect at once.
Every POST form carries the token and is refused with 403 without it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware

from triage.accounts import SIGN_IN_LOCKOUT, authenticate, record_failed_sign_in, sign_in_locked
from triage.config import ConfigError, Settings
from triage.store.db import transaction
from triage.store.models import StaffUser
from triage.store.records import log_event
from triage.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/staff")

PAGES_DIR = Path(__file__).with_name("pages")
PAGES = Environment(loader=FileSystemLoader(PAGES_DIR), autoescape=select_autoescape(["html"]))
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
PLACEHOLDER_SECRETS = {"change-me", "changeme", "secret", "development", "dev", "please-change-me"}
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class StaffSession:
    id: int
    username: str
    role: str

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def session_secret(settings: Settings) -> str:
    """The cookie-signing key; outside development a missing, short or placeholder key stops start-up."""
    key = settings.secret_key
    weak = not key or key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH
    if not weak:
        return key
    if settings.environment != "development":
        raise ConfigError("TRIAGE_SECRET_KEY: set 32 or more random characters before running the staff pages "
                          "outside development")
    log.warning("no usable TRIAGE_SECRET_KEY in development: staff sessions last until the next restart")
    return secrets.token_urlsafe(48)


def install(app, rt) -> None:
    from triage.web import staff, supervisor

    app.add_middleware(SessionMiddleware, secret_key=session_secret(rt.settings), session_cookie="triage_staff",
                       max_age=rt.settings.staff_session_hours * 3600, same_site="strict",
                       https_only=rt.settings.environment == "production")
    app.include_router(router)
    app.include_router(staff.router)
    app.include_router(supervisor.router)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    form = await request.form()
    expected = request.session.get("csrf")
    given = form.get("csrf_token")
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "This form has expired or did not come from the staff pages: reload and retry.")


def current_user(request: Request, rt: RuntimeDep) -> StaffSession:
    """The signed-in user, or a redirect to the sign-in page (back here afterwards, for a GET)."""
    user_id = request.session.get("user_id")
    if user_id is not None:
        with rt.sessions() as session:
            user = session.get(StaffUser, user_id)
            if user is not None and user.active:
                return StaffSession(user.id, user.username, user.role)
        request.session.clear()
    target = request.url.path if request.method == "GET" else "/staff/"
    raise HTTPException(303, "sign in first", headers={"Location": f"/staff/login?next={quote(target)}"})


def supervisor_only(user: Annotated[StaffSession, Depends(current_user)]) -> StaffSession:
    if not user.is_supervisor:
        raise HTTPException(403, "Only a supervisor can do this.")
    return user


UserDep = Annotated[StaffSession, Depends(current_user)]
SupervisorDep = Annotated[StaffSession, Depends(supervisor_only)]
CsrfChecked = Depends(check_csrf)


async def check_signed_in_csrf(request: Request, user: UserDep) -> None:
    """Sign-in first (an expired session goes back to the sign-in page), then the form's token."""
    await check_csrf(request)


StaffCsrf = Depends(check_signed_in_csrf)
"""For the staff pages' forms, in place of `CsrfChecked`."""


def render(request: Request, name: str, status_code: int = 200, user: StaffSession | None = None,
           **context: object) -> HTMLResponse:
    html = PAGES.get_template(name).render(user=user, csrf_token=csrf_token(request), **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def safe_next(target: str | None) -> str:
    """Only a path on the staff pages, so the sign-in form cannot bounce anyone to another site."""
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/"


@router.get("/staff.css", include_in_schema=False)
def stylesheet() -> Response:
    return FileResponse(PAGES_DIR / "staff.css", media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, rt: RuntimeDep, username: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/staff/") -> Response:
    with transaction(rt.sessions) as session:
        locked = sign_in_locked(session, username, datetime.now(UTC))
        user = None if locked else authenticate(session, username, password)
        if locked:
            log_event(session, "web", "staff_sign_in_refused_locked")
        elif user is None:
            record_failed_sign_in(session, username)
        else:
            log_event(session, f"staff:{user.username}", "staff_signed_in")
    if locked:
        minutes = int(SIGN_IN_LOCKOUT.total_seconds() // 60)
        return render(request, "login.html", status_code=429, next=safe_next(next),
                      error=f"Too many wrong passwords for this account. Try again in {minutes} minutes, "
                            "or ask a supervisor to check the account.")
    if user is None:
        return render(request, "login.html", status_code=401, next=safe_next(next),
                      error="That username and password do not match an active account.")
    request.session.clear()  # a fresh session on sign-in: nothing planted before it survives
    request.session["user_id"] = user.id
    csrf_token(request)
    log.info("staff signed in", extra={"staff_user_id": user.id})
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)
