"""`triage telegram`: poll for updates, or register the webhook with Telegram.

`triage run` already polls when a bot token is set without a webhook secret;
`poll` is for running the poller as its own process beside `triage worker`.
"""

from __future__ import annotations

import argparse

HELP = "Telegram bot: `poll` for updates, or `set-webhook` to have Telegram call /webhooks/telegram."
WEBHOOK_PATH = "/webhooks/telegram"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["poll", "set-webhook"])
    parser.add_argument("--url", default=None,
                        help=f"webhook URL for set-webhook (default: TRIAGE_PUBLIC_BASE_URL + {WEBHOOK_PATH})")


def run(args: argparse.Namespace) -> int:
    from triage.cli import UserError
    from triage.config import load_settings

    settings = load_settings()
    if not settings.telegram_token:
        raise UserError("TRIAGE_TELEGRAM_TOKEN is not set")
    if args.action == "poll":
        return _poll()
    return _set_webhook(settings, args.url)


def _poll() -> int:
    import signal
    import threading

    from triage.cli.common import log, redis_queue, runtime_for, start
    from triage.connectors.telegram.inbound import inbound_for
    from triage.connectors.telegram.polling import TelegramPoller

    settings = start()
    rt = runtime_for(settings, redis_queue(settings))
    poller = TelegramPoller(inbound_for(rt))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    poller.start()
    log.info("telegram polling", extra={"channel": "telegram"})
    stop.wait()
    poller.stop()
    return 0


def _set_webhook(settings, url: str | None) -> int:
    import asyncio

    from telegram.error import TelegramError

    from triage.cli import UserError
    from triage.connectors.telegram.transport import new_bot

    if not settings.telegram_secret:
        raise UserError("TRIAGE_TELEGRAM_SECRET is not set (webhooks without it cannot be trusted)")
    if url is None:
        if not settings.public_base_url:
            raise UserError("give --url or set TRIAGE_PUBLIC_BASE_URL")
        url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH

    async def register() -> None:
        async with new_bot(settings.telegram_token, settings.telegram_api_base) as bot:
            await bot.set_webhook(url, secret_token=settings.telegram_secret, allowed_updates=["message"])

    try:
        asyncio.run(register())
    except TelegramError as exc:
        raise UserError(f"Telegram refused the webhook: {exc.message}") from None
    print(f"webhook set: {url}")
    return 0
