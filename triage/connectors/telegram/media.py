"""Files residents sent the bot: `telegram-file:<file_id>` -> `getFile`, then the download.

Telegram gives a file's path (and usually its size) only through `getFile`, and
serves the bytes under the file URL derived from the API base (`new_bot`), so a
local Bot API server or the tests' fake serves both. Sizes are checked before
downloading where Telegram states them, and again after.
"""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import dataclass

from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from triage.config import Settings
from triage.connectors.base import FetchedMedia, TransportError, too_large
from triage.connectors.telegram.parse import FILE_URL_PREFIX
from triage.connectors.telegram.transport import new_bot

TIMEOUT_SECONDS = 30


@dataclass
class TelegramMediaFetcher:
    channel = "telegram"
    token: str
    max_bytes: int
    api_base: str | None = None

    def fetch(self, url: str) -> FetchedMedia:
        if not url.startswith(FILE_URL_PREFIX) or len(url) == len(FILE_URL_PREFIX):
            raise TransportError("not a Telegram file reference", permanent=True)
        try:
            return asyncio.run(self._download(url[len(FILE_URL_PREFIX):]))
        except (BadRequest, Forbidden, InvalidToken, EndPointNotFound) as exc:
            raise TransportError(f"Telegram refused the file: {exc.__class__.__name__}", permanent=True) from exc
        except TelegramError as exc:
            raise TransportError(f"Telegram unavailable: {exc.__class__.__name__}") from exc

    async def _download(self, file_id: str) -> FetchedMedia:
        request = HTTPXRequest(connect_timeout=10, read_timeout=TIMEOUT_SECONDS)
        try:
            file = await new_bot(self.token, self.api_base, request).get_file(file_id)
            if file.file_size and file.file_size > self.max_bytes:
                raise too_large(self.max_bytes)
            data = bytes(await file.download_as_bytearray())
        finally:
            await request.shutdown()
        if len(data) > self.max_bytes:
            raise too_large(self.max_bytes)
        content_type = mimetypes.guess_type(file.file_path)[0] if file.file_path else None
        return FetchedMedia(data, content_type)


def build_fetcher(settings: Settings) -> TelegramMediaFetcher:
    if not settings.telegram_token:
        raise TransportError("Telegram media need TRIAGE_TELEGRAM_TOKEN")
    return TelegramMediaFetcher(settings.telegram_token, settings.max_attachment_bytes, settings.telegram_api_base)
