"""Structured logs that carry ids, never personal data.

Only whitelisted `extra` fields reach the output, so a careless
`log.info(..., extra={"email": ...})` cannot leak an address or message text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

SAFE_FIELDS = (
    "message_id", "case_id", "reply_id", "channel", "action", "error", "count", "job_id", "attempt",
    "queue", "status", "component", "port", "kind", "model", "duration_ms", "reason", "file_sha256",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{n}={record.__dict__[n]}" for n in SAFE_FIELDS if n in record.__dict__)
        line = f"{record.levelname.lower():7} {record.name}: {record.getMessage()}"
        return f"{line} {fields}".rstrip()


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "mail.log", "alembic", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
