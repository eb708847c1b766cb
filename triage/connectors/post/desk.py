"""The one path from scan bytes to a stored message, for the drop folder, the upload endpoint and the CLI.

A scan already stored (same content hash) is recognised before any OCR, so a
duplicate drop or a retry after a crash costs one query, not a minute of Tesseract.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings
from triage.connectors.post.letter_fields import OwnDetails
from triage.connectors.post.parse import external_id, letter_message
from triage.connectors.post.reader import ScanReader
from triage.council import Council
from triage.intake import Intake, IntakeUnavailable
from triage.message import sha256_hex
from triage.store.db import DatabaseUnavailable, transaction
from triage.store.models import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    message_id: int
    created: bool
    """False when this scan was already stored (a duplicate drop, or a retry after a crash)."""
    sha256: str
    pages: int | None = None
    needs_reading: bool | None = None
    """None when the scan was not read again."""


@dataclass(frozen=True)
class PostDesk:
    reader: ScanReader
    intake: Intake
    sessions: sessionmaker[Session]
    own: OwnDetails
    ocr_langs: str

    @classmethod
    def build(cls, settings: Settings, intake: Intake, sessions: sessionmaker[Session], council: Council) -> PostDesk:
        return cls(ScanReader.from_settings(settings), intake, sessions, OwnDetails.from_council(council.raw),
                   settings.ocr_langs)

    def take(self, data: bytes, filename: str | None, received_at: datetime) -> Taken:
        """Store the scan as a message; `BadScan` if it cannot be read, `IntakeUnavailable` to retry later."""
        sha = sha256_hex(data)
        stored = self.stored_message(sha)
        if stored is not None:
            log.info("scan already stored", extra={"message_id": stored, "file_sha256": sha, "channel": "post"})
            return Taken(stored, False, sha)
        scan = self.reader.read(data)
        message = letter_message(data, scan, filename=filename, received_at=received_at, own=self.own,
                                 ocr_langs=self.ocr_langs, min_confidence=self.reader.min_confidence)
        accepted = self.intake.accept(message)
        log.info("letter stored", extra={"message_id": accepted.message_id, "file_sha256": sha, "channel": "post",
                                         "count": len(scan.pages),
                                         "status": "needs_reading" if scan.needs_reading else "read"})
        return Taken(accepted.message_id, accepted.created, sha, len(scan.pages), scan.needs_reading)

    def stored_message(self, sha: str) -> int | None:
        try:
            with transaction(self.sessions) as session:
                return session.scalar(select(Message.id).where(
                    Message.channel == "post", Message.external_id == external_id(sha)))
        except DatabaseUnavailable as exc:
            raise IntakeUnavailable(str(exc)) from exc
