"""`POST /post/upload`: a scan uploaded by the post room (multipart field `file`), read at once.

Off unless `TRIAGE_POST_UPLOAD_TOKEN` is set, and every call must carry it as
`Authorization: Bearer <token>`: an open endpoint would let anyone put letters
in the council's queue. The body is read with a hard size limit before the
multipart parser sees it. The answer says what became of the scan, or why it
was refused, in the same words as the drop folder's reason files.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from pathlib import PurePath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from triage.config import ConfigError
from triage.connectors.post.desk import PostDesk
from triage.connectors.post.files import BadScan
from triage.connectors.post.parse import external_id
from triage.intake import IntakeUnavailable
from triage.web.body import read_body
from triage.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/post")

MULTIPART_OVERHEAD = 64 * 1024
"""Bytes allowed beyond the largest scan for multipart boundaries and headers."""
REFUSAL_STATUS = {"too_large": 413, "too_many_pages": 413, "unsupported_type": 415}
"""HTTP status per refusal code; every other refusal is 422 (the file is the problem, not the request)."""


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _desk(request: Request, rt) -> PostDesk:
    desk = getattr(request.app.state, "post_desk", None)
    if desk is None:
        try:
            desk = PostDesk.build(rt.settings, rt.intake, rt.sessions, rt.council)
        except ConfigError as exc:
            log.error("scan upload cannot read scans", extra={"channel": "post", "error": str(exc)})
            raise HTTPException(503, "scans cannot be read on this server right now") from None
        request.app.state.post_desk = desk
    return desk


async def _file_field(request: Request, body: bytes) -> UploadFile:
    """The `file` part of a multipart body that has already been read (and size-checked)."""

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=5)
    except Exception:  # starlette raises several types for a malformed body
        raise HTTPException(400, "the body is not valid multipart/form-data") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(400, "send the scan as the multipart field `file`")
    return upload


@router.post("/upload")
async def upload_scan(request: Request, rt: RuntimeDep) -> JSONResponse:
    token = rt.settings.post_upload_token
    if not token:
        raise HTTPException(404, "scan upload is not enabled on this installation")
    if not _authorised(request, token):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        raise HTTPException(415, "Content-Type must be multipart/form-data")
    body = await read_body(request, rt.settings.post_max_bytes + MULTIPART_OVERHEAD)
    upload = await _file_field(request, body)
    data = await upload.read()
    filename = PurePath(upload.filename or "upload").name[:200] or "upload"
    desk = _desk(request, rt)
    try:
        taken = await run_in_threadpool(desk.take, data, filename, datetime.now(UTC))
    except BadScan as refusal:
        return JSONResponse({"detail": refusal.detail, "reason": refusal.code},
                            status_code=REFUSAL_STATUS.get(refusal.code, 422))
    except IntakeUnavailable:
        log.warning("scan upload refused while storage is unavailable", extra={"channel": "post"})
        raise HTTPException(503, "storage unavailable, retry later") from None
    return JSONResponse({"message_id": taken.message_id, "external_id": external_id(taken.sha256),
                         "created": taken.created, "pages": taken.pages, "needs_reading": taken.needs_reading},
                        status_code=201 if taken.created else 200)
