"""Replies with the bot (python-telegram-bot), and the one place a `Bot` is built.

Blocked bots, deleted chats and rejected requests are permanent failures (the
reply is marked failed for staff); network trouble and flood limits are retried.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.request import HTTPXRequest

from triage.config import Settings
from triage.connectors.base import OutboundMessage, SendResult, TransportError

DEFAULT_API_BASE = "https://api.telegram.org/bot"
DEFAULT_FILE_BASE = "https://api.telegram.org/file/bot"
BOT_SEGMENT = re.compile(r"/bot(\{token\})?/?$")
MAX_TEXT = 4096
"""Telegram's limit on one message, in characters; longer replies go in several parts."""


def new_bot(token: str, api_base: str | None = None, request: HTTPXRequest | None = None) -> Bot:
    """`api_base` is python-telegram-bot's `base_url` (the token is appended, or fills `{token}`)."""
    base = api_base or DEFAULT_API_BASE
    return Bot(token, base_url=base, base_file_url=file_base(base), request=request)


def file_base(api_base: str) -> str:
    """Where the Bot API serves files: `…/bot` becomes `…/file/bot`, so a local Bot API (or a fake) serves both."""
    found = BOT_SEGMENT.search(api_base)
    return f"{api_base[:found.start()]}/file{api_base[found.start():]}" if found else DEFAULT_FILE_BASE


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` characters, cut at the last line break where there is one."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text] if text else parts


async def send_text(token: str, api_base: str | None, chat_id: str | int, text: str) -> list[int]:
    """Send `text` to a chat with a short-lived bot; the Telegram message ids of the parts."""
    request = HTTPXRequest()
    bot = new_bot(token, api_base, request)
    try:
        return [(await bot.send_message(chat_id, part)).message_id for part in split_text(text)]
    finally:
        await request.shutdown()


@dataclass
class TelegramSender:
    channel = "telegram"
    token: str
    api_base: str | None = None

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            ids = asyncio.run(send_text(self.token, self.api_base, message.recipient, message.text))
        except (Forbidden, ChatMigrated, BadRequest) as exc:
            raise TransportError(f"Telegram refused: {exc.message}", permanent=True) from exc
        except TelegramError as exc:
            raise TransportError(f"Telegram unavailable: {exc.__class__.__name__}") from exc
        if not ids:
            raise TransportError("empty reply", permanent=True)
        return SendResult(provider_id=f"{message.recipient}:{ids[0]}")


def build_sender(settings: Settings) -> TelegramSender:
    if not settings.telegram_token:
        raise TransportError("Telegram is not configured (TRIAGE_TELEGRAM_TOKEN)")
    return TelegramSender(settings.telegram_token, settings.telegram_api_base)
