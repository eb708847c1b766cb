"""What a running process holds: settings, database, blobs, queue, council and classifier.

Built once at start-up from `Settings` and passed down. Job functions run inside
RQ, which can only hand them ids, so they fetch the process's runtime with
`current()`; nothing deeper than the job layer does.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings, load_settings
from triage.council import Council, load_council
from triage.queue import JobQueue
from triage.store.blobs import BlobStore
from triage.store.db import make_engine, session_factory

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    queue: JobQueue
    council: Council
    _classifier_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings, queue: JobQueue) -> Runtime:
        from triage.templates.render import check_templates

        council = load_council(settings.council_file)
        check_templates(council)  # a council file that would break a reply is refused now, not at send time
        engine = make_engine(settings.effective_database_url)
        # RQ forks a work horse per job: the child must not reuse the parent's pooled connections.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            blobs=BlobStore(settings.blob_dir),
            queue=queue,
            council=council,
        )

    @cached_property
    def intake(self):
        """The one door connectors use to hand in messages."""
        from triage.intake import Intake

        return Intake(self.sessions, self.blobs, self.queue, retries=self.settings.triage_retries)

    @cached_property
    def senders(self):
        """Reply senders by channel (`rt.senders["email"]`), each built the first time a reply uses it."""
        from triage.connectors.registry import Senders

        return Senders(self.settings, sessions=self.sessions, blobs=self.blobs, council=self.council)

    @cached_property
    def classifier(self):
        """The current model, loaded on first use; None when no model is installed (everything is queued)."""
        from triage.classify import load_classifier
        from triage.classify.registry import ModelNotFound

        with self._classifier_lock:
            try:
                return load_classifier(self.settings.model_dir)
            except ModelNotFound as exc:
                log.warning("no classifier model; every message will be queued for a person: %s", exc)
                return None


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    """The process's runtime; a bare `rq worker` builds one from the environment on first use."""
    global _current
    if _current is None:
        from triage.queue import RQJobQueue

        settings = load_settings()
        if not settings.redis_url:
            raise RuntimeError("TRIAGE_REDIS_URL is needed by a worker outside `triage run`")
        _current = Runtime.build(settings, RQJobQueue.from_url(settings.redis_url))
    return _current
