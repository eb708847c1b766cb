"""Reading webhook and API bodies defensively: size, content type, UTF-8, form or JSON.

Every check turns bad input into a clear 4xx before anything is stored, so a
malformed request can never become a 500 or a half-stored message.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, "invalid Content-Length")
        if int(declared) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def require_content_type(request: Request, expected: str) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != expected:
        raise HTTPException(415, f"Content-Type must be {expected}")


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "body is not valid UTF-8") from None


def parse_form(body: bytes) -> dict[str, str]:
    """An urlencoded form as a dict (the last value wins, as Twilio never repeats a field)."""
    try:
        pairs = parse_qsl(decode_utf8(body), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(400, "form is not valid UTF-8 once decoded") from None
    return dict(pairs)


def parse_json_object(body: bytes) -> dict:
    try:
        data = json.loads(decode_utf8(body))
    except json.JSONDecodeError:
        raise HTTPException(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data
