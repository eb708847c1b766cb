"""The embedded default: SQLite with the in-process queue triages a message end to end."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.helpers import make_message
from triage.config import Settings
from triage.runtime import Runtime, install
from triage.store.db import upgrade
from triage.store.models import Case, Message

BST = timezone(timedelta(hours=1))


def test_sqlite_and_the_in_process_queue_triage_a_message(tmp_path):
    from triage.cli.run import _resolve
    from triage.queue import InProcessQueue

    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "models", log_format="text")
    upgrade(settings.effective_database_url)
    queue = InProcessQueue(_resolve)
    rt = Runtime.build(settings, queue)
    install(rt)
    queue.start()
    try:
        # 00:30 BST on Saturday 4 July 2026 is Friday 23:30 UTC: the London date decides day 0.
        received = datetime(2026, 7, 4, 0, 30, tzinfo=BST)
        accepted = rt.intake.accept(make_message("Street light out on Mill Lane", received_at=received))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with rt.sessions() as session:
                message = session.get(Message, accepted.message_id)
                if message.status == "triaged":
                    break
            time.sleep(0.1)
        with rt.sessions() as session:
            message = session.get(Message, accepted.message_id)
            case = session.scalars(select(Case)).one()
    finally:
        queue.stop()
        install(None)  # type: ignore[arg-type]
    assert message.status == "triaged", message.last_error
    assert message.received_at == received  # same instant, read back timezone-aware
    assert case.processed_by.isoformat() == "2026-07-08"  # day 0 is Monday 6 July
