"""Start-up shared by the commands: settings, logs, schema, runtime."""

from __future__ import annotations

import logging

from triage.config import Settings, load_settings
from triage.queue import JobQueue
from triage.runtime import Runtime, install

log = logging.getLogger("triage")


def start(*, log_format: str | None = None, **overrides: object) -> Settings:
    """Load settings, configure logging and bring the database schema up to date."""
    from triage import logs
    from triage.store.db import DatabaseUnavailable, upgrade

    settings = load_settings(**overrides)
    logs.configure(settings.log_level, log_format or settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.effective_database_url)
    except Exception as exc:
        from triage.config import ConfigError

        if isinstance(exc, DatabaseUnavailable | ConfigError):
            raise
        detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0][:200]
        raise ConfigError(f"cannot open the database ({exc.__class__.__name__}): {detail}") from None
    return settings


def runtime_for(settings: Settings, queue: JobQueue) -> Runtime:
    rt = Runtime.build(settings, queue)
    install(rt)
    return rt


def redis_queue(settings: Settings):
    from triage.cli import UserError
    from triage.queue import RQJobQueue

    if not settings.redis_url:
        raise UserError("TRIAGE_REDIS_URL is not set (outside `triage run` a worker needs a shared Redis)")
    return RQJobQueue.from_url(settings.redis_url)


def load_model(model_dir, version: str | None = None):
    """The classifier to use, or a one-line refusal when it is missing or its files were altered."""
    from triage.classify import ModelNotFound, load_classifier
    from triage.classify.persistence import ModelTampered
    from triage.cli import UserError

    try:
        return load_classifier(model_dir, version)
    except (ModelNotFound, ModelTampered) as exc:
        raise UserError(str(exc)) from None
