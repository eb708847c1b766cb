"""The web-chat widget at `/chat/` and its JSON API at `/chat/api/`.

The widget is same-origin with its API (a council embeds it in an iframe), so
no CORS is needed and the page's Content-Security-Policy allows only itself;
only the sites in `TRIAGE_CHAT_FRAME_ANCESTORS` may frame it, so no other page
can wrap it to mislead residents.
Each call carries the session token as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from triage.connectors.webchat.parse import MAX_CHARS, BadChatMessage, ChatMessageTooLong, parse_chat_message
from triage.connectors.webchat.ratelimit import RateLimiter, limiter_for
from triage.connectors.webchat.replies import replies_after
from triage.connectors.webchat.sessions import open_session, session_for_token
from triage.intake import IntakeUnavailable
from triage.store.db import DatabaseUnavailable
from triage.web.body import parse_json_object, read_body, require_content_type
from triage.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/chat")

STATIC = Path(__file__).with_name("static") / "chat"
ASSETS = {"chat.css": "text/css", "chat.js": "text/javascript"}
PAGES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                    autoescape=select_autoescape(["html"]))
MAX_BODY_BYTES = 64 * 1024
"""Largest message request, in bytes: room for 5,000 characters even when every one is JSON-escaped."""
POLL_AFTER_MS = 2000
"""How long the widget waits between asks for new replies, in milliseconds."""
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
               "base-uri 'none'; form-action 'self'")


def page_headers(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": f"{PAGE_POLICY}; frame-ancestors {frame_ancestors}",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.chat_limiter


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def install(app, rt) -> None:
    """Add the chat routes and their rate limiter (shared through Redis when the queue is Redis)."""
    app.state.chat_limiter = limiter_for(rt.queue)
    app.include_router(router)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def unavailable() -> HTTPException:
    return HTTPException(503, "storage unavailable, retry later", headers={"Retry-After": "5"})


def limit(limiter: RateLimiter, key: str, allowed: int) -> None:
    retry_after = limiter.hit(key, allowed)
    if retry_after is not None:
        raise HTTPException(429, "too many messages, please wait a moment", headers={"Retry-After": str(retry_after)})


async def chat_session(request: Request, rt: RuntimeDep) -> str:
    """The public id of the caller's session, from its bearer token (401 when there is none)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "session token required", headers={"WWW-Authenticate": "Bearer"})
    try:
        public_id = await run_in_threadpool(session_for_token, rt.sessions, token.strip(), datetime.now(UTC),
                                             timedelta(days=rt.settings.chat_session_days))
    except DatabaseUnavailable:
        raise unavailable() from None
    if public_id is None:
        raise HTTPException(401, "unknown session", headers={"WWW-Authenticate": "Bearer"})
    return public_id


SessionDep = Annotated[str, Depends(chat_session)]


@router.get("/", response_class=HTMLResponse)
def widget(rt: RuntimeDep) -> HTMLResponse:
    page = PAGES.get_template("chat.html").render(council_name=rt.council.get("name", "the council"),
                                                  max_chars=MAX_CHARS)
    return HTMLResponse(page, headers=page_headers(rt.settings.chat_frame_ancestors))


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "not found")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"X-Content-Type-Options": "nosniff"})


@router.post("/api/sessions", status_code=201)
async def start_session(request: Request, rt: RuntimeDep, limiter: LimiterDep) -> dict:
    ip = client_ip(request)
    limit(limiter, f"chat-ip:{ip}", rt.settings.chat_rate_ip)
    try:
        new = await run_in_threadpool(open_session, rt.sessions, ip, datetime.now(UTC))
    except DatabaseUnavailable:
        raise unavailable() from None
    return {"session_id": new.public_id, "token": new.token, "max_chars": MAX_CHARS}


@router.post("/api/messages", status_code=202)
async def post_message(request: Request, rt: RuntimeDep, limiter: LimiterDep, public_id: SessionDep) -> dict:
    require_content_type(request, "application/json")
    body = await read_body(request, MAX_BODY_BYTES)
    try:
        msg = parse_chat_message(public_id, parse_json_object(body), body, datetime.now(UTC))
    except ChatMessageTooLong as exc:
        raise HTTPException(413, str(exc)) from None
    except BadChatMessage as exc:
        raise HTTPException(400, str(exc)) from None
    limit(limiter, f"chat-session:{public_id}", rt.settings.chat_rate_session)
    limit(limiter, f"chat-ip:{client_ip(request)}", rt.settings.chat_rate_ip)
    try:
        accepted = await run_in_threadpool(rt.intake.accept, msg)
    except IntakeUnavailable:
        log.warning("chat message refused while storage is unavailable", extra={"channel": "webchat"})
        raise unavailable() from None
    log.info("chat message accepted", extra={"channel": "webchat", "message_id": accepted.message_id})
    return {"status": "received"}


@router.get("/api/replies")
async def replies(rt: RuntimeDep, public_id: SessionDep, after: Annotated[int, Query(ge=0)] = 0) -> JSONResponse:
    try:
        found = await run_in_threadpool(replies_after, rt.sessions, public_id, after, datetime.now(UTC))
    except DatabaseUnavailable:
        raise unavailable() from None
    return JSONResponse({"replies": found, "poll_after_ms": POLL_AFTER_MS}, headers={"Cache-Control": "no-store"})
