"""Polling mode for small installations without a public HTTPS address.

We call getUpdates ourselves rather than use python-telegram-bot's `Updater`:
Telegram forgets an update once a later getUpdates names a higher offset, and
the `Updater` moves the offset as soon as updates are fetched. Here the offset
moves only after intake has stored the update, so a database outage delays
messages but never loses one (a repeat after a crash is stored once by intake).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading

from telegram.error import TelegramError

from triage.connectors.telegram.inbound import TelegramInbound, inbound_for
from triage.connectors.telegram.transport import new_bot
from triage.intake import IntakeUnavailable

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25
"""Seconds one getUpdates long poll waits for news."""
MAX_BACKOFF = 60
"""Most seconds between attempts while Telegram or our database is unavailable."""


class TelegramPoller:
    """A `triage run` service: a thread with its own event loop, cancelled on stop."""

    name = "telegram"

    def __init__(self, inbound: TelegramInbound, poll_timeout: int = POLL_TIMEOUT) -> None:
        self.inbound = inbound
        self.poll_timeout = poll_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._running = threading.Event()

    async def poll(self) -> None:
        """Fetch, store, acknowledge; forever (until cancelled)."""
        bot = new_bot(self.inbound.token, self.inbound.api_base)
        ready = False
        offset: int | None = None
        backoff = 1
        try:
            while True:
                try:
                    if not ready:
                        await bot.initialize()
                        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
                        ready = True
                    updates = await bot.get_updates(offset=offset, timeout=self.poll_timeout,
                                                    allowed_updates=["message"])
                    for update in updates:
                        raw = json.dumps(update.to_dict(), ensure_ascii=False).encode()
                        outcome = await self.inbound.handle(update, raw)
                        offset = update.update_id + 1
                        log.info("telegram update handled", extra={"channel": "telegram", "action": outcome})
                    backoff = 1
                except Exception as exc:  # outages and bugs alike: wait, then retry the same update
                    expected = isinstance(exc, IntakeUnavailable | TelegramError)
                    log.log(logging.WARNING if expected else logging.ERROR, "telegram polling paused",
                            extra={"channel": "telegram", "error": exc.__class__.__name__})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
        finally:
            await bot.shutdown()

    def start(self) -> None:
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name="telegram-poller",
                                        daemon=True)
        self._thread.start()
        self._running.wait(timeout=10)

    def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._running.set()
        try:
            await self.poll()
        except asyncio.CancelledError:
            log.info("telegram polling stopped", extra={"channel": "telegram"})


def polling_service(rt) -> TelegramPoller | None:
    """Poll when a bot token is set but no webhook secret: without a secret, webhooks cannot be trusted."""
    if rt.settings.telegram_token and not rt.settings.telegram_secret:
        return TelegramPoller(inbound_for(rt))
    return None
