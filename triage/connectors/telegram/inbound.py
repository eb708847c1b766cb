"""One update in, whichever way it came (webhook or polling): greet, store, or ignore.

`/start` is answered at once with what the bot can do; it is not correspondence
and opens no case. Everything a resident writes goes to intake, and only once
intake has stored it may the caller acknowledge the update to Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError

from triage.connectors.telegram.parse import is_greeting_command, parse_update
from triage.connectors.telegram.transport import send_text
from triage.council import Council
from triage.intake import Intake

log = logging.getLogger(__name__)


def greeting(council: Council) -> str:
    """What `/start` says, in English and Welsh, with the council's own name and numbers."""
    name = council.get("name", "the council")
    name_cy = council.get("name_cy", name)
    out_of_hours = council.get("out_of_hours_phone")
    urgent = "If someone is in danger or hurt, call 999."
    urgent_cy = "Os oes rhywun mewn perygl neu wedi'i anafu, ffoniwch 999."
    if out_of_hours:
        urgent += f" For an urgent council matter out of hours, call {out_of_hours}."
        urgent_cy += f" Am fater brys i'r cyngor y tu allan i oriau swyddfa, ffoniwch {out_of_hours}."
    return (
        f"Hello, this is {name}.\n\n"
        "Send us your question or tell us about a problem, in English or Welsh. You can add a photo. "
        "We answer simple questions here straight away. Anything else goes to our team, and we will "
        "tell you your reference and the date you will hear back by.\n\n"
        f"{urgent}\n\n"
        f"Helo, dyma {name_cy}.\n\n"
        "Anfonwch eich cwestiwn neu dywedwch wrthym am broblem, yn Gymraeg neu yn Saesneg. "
        "Gallwch ychwanegu llun. Byddwn yn ateb cwestiynau syml yma ar unwaith. Bydd popeth arall "
        "yn mynd i'n tîm, a byddwn yn rhoi eich cyfeirnod i chi a'r dyddiad y byddwch yn clywed gennym.\n\n"
        f"{urgent_cy}"
    )


@dataclass(frozen=True)
class TelegramInbound:
    intake: Intake
    greeting: str
    token: str
    api_base: str | None = None

    async def handle(self, update: Update, raw: bytes) -> str:
        """What became of the update: greeted, stored, duplicate or ignored. Raises IntakeUnavailable."""
        if is_greeting_command(update):
            try:
                await send_text(self.token, self.api_base, update.message.chat.id, self.greeting)
            except TelegramError as exc:
                log.warning("could not send the /start greeting", extra={"channel": "telegram",
                                                                        "error": exc.__class__.__name__})
            return "greeted"
        msg = parse_update(update, raw)
        if msg is None:
            log.info("telegram update with nothing to read ignored", extra={"channel": "telegram"})
            return "ignored"
        accepted = await asyncio.to_thread(self.intake.accept, msg)
        return "stored" if accepted.created else "duplicate"


def inbound_for(rt) -> TelegramInbound:
    settings = rt.settings
    return TelegramInbound(rt.intake, greeting(rt.council), settings.telegram_token, settings.telegram_api_base)
