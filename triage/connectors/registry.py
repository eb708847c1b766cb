"""Which module sends replies on which channel, imported the first time a reply goes out on it.

Each channel's sender lives in `triage/connectors/<channel>/transport.py` as
`build_sender(settings, ...)`. Importing lazily keeps a worker that only sends
email from loading Twilio and Telegram. A channel whose sender is missing or not
configured raises a temporary `TransportError`, so its replies wait in the
queue until it is, rather than being lost or marked failed.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping

from triage.config import ConfigError, Settings
from triage.connectors.base import Sender, TransportError

FACTORIES: Mapping[str, str] = {
    "email": "triage.connectors.email.transport:build_sender",
    "sms": "triage.connectors.sms.transport:build_sender",
    "telegram": "triage.connectors.telegram.transport:build_sender",
    "webchat": "triage.connectors.webchat.transport:build_sender",
    "post": "triage.connectors.post.transport:build_sender",
}
"""channel -> `module:factory`; a factory takes the settings plus any runtime pieces it names."""


def build_sender(channel: str, settings: Settings, pieces: Mapping[str, object]) -> Sender:
    """Import and build one channel's sender, passing the runtime pieces its factory asks for by name."""
    try:
        module_name, factory_name = FACTORIES[channel].split(":")
    except KeyError:
        raise TransportError(f"no sender is registered for channel {channel!r}", permanent=True) from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise TransportError(f"no sender is installed for {channel} yet ({module_name})") from exc
        raise
    factory = getattr(module, factory_name)
    wanted = {name: pieces[name] for name in inspect.signature(factory).parameters if name in pieces}
    try:
        return factory(settings, **wanted)
    except ConfigError as exc:
        raise TransportError(f"{channel} sender is not configured: {exc}") from exc


class Senders:
    """Senders by channel, each built once, on first use (a failed build is tried again next time)."""

    def __init__(self, settings: Settings, **pieces: object) -> None:
        self.settings = settings
        self.pieces = pieces
        self._built: dict[str, Sender] = {}

    def __getitem__(self, channel: str) -> Sender:
        if channel not in self._built:
            self._built[channel] = build_sender(channel, self.settings, self.pieces)
        return self._built[channel]
