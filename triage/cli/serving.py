"""Running listeners in the foreground until Ctrl-C or SIGTERM (for `triage smtp` and `triage imap`)."""

from __future__ import annotations

import signal
import threading


def serve_until_signalled(service) -> None:
    """Start `service`, block until SIGINT/SIGTERM, then stop it cleanly."""
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    service.start()
    try:
        stopping.wait()
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
