"""The web-chat "sender": nothing goes on a wire; the widget collects the reply by polling.

Marking the reply `sent` is what makes it visible to `replies.replies_after`.
"""

from __future__ import annotations

from triage.config import Settings
from triage.connectors.base import OutboundMessage, SendResult


class WebchatSender:
    channel = "webchat"
    resend_safe = True
    """Sending again after an interrupted attempt only marks the same row sent: the widget shows it once."""

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(provider_id=f"webchat-{message.reply_id}")


def build_sender(settings: Settings) -> WebchatSender:
    return WebchatSender()
