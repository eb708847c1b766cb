"""The schema: migrations match the models, and the event log cannot be rewritten."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from triage.store.db import make_engine, upgrade
from triage.store.models import Base


def test_migrations_create_exactly_the_models(pg_engine):
    with pg_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_embedded_default_migrates_from_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    upgrade(url)
    upgrade(url)  # idempotent
    with make_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_events_are_append_only(db, pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(text("INSERT INTO events (actor, kind, data) VALUES ('staff:alice', 'note', '{}')"))
    for statement in ("UPDATE events SET actor = 'staff:mallory'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), pg_engine.begin() as conn:
            conn.execute(text(statement))
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM events")).scalar_one() == "staff:alice"
