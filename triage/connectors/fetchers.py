"""Which module downloads residents' media on which channel, imported the first time one is needed.

SMS and Telegram leave files at the provider (`to_fetch` attachments) so intake never
waits on a download; `triage.jobs.fetch_media` fetches them later through these.
Importing lazily keeps a worker that never sees a photo from loading Telegram.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from triage.config import Settings
from triage.connectors.base import MediaFetcher, TransportError

FETCHERS: Mapping[str, str] = {
    "sms": "triage.connectors.sms.media:build_fetcher",
    "telegram": "triage.connectors.telegram.media:build_fetcher",
}
"""channel -> `module:factory`; a factory takes the settings and returns a `MediaFetcher`."""


def build_fetcher(channel: str, settings: Settings) -> MediaFetcher:
    """The channel's fetcher; a channel that keeps no media elsewhere is a permanent error."""
    try:
        module_name, factory_name = FETCHERS[channel].split(":")
    except KeyError:
        raise TransportError(f"no media fetcher for channel {channel!r}", permanent=True) from None
    return getattr(importlib.import_module(module_name), factory_name)(settings)
