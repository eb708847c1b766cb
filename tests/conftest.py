"""Fixtures: a real PostgreSQL database and a real Redis, clean for every test.

One throwaway PostgreSQL database is created per test session and migrated with
Alembic (so the migrations themselves are under test); tables are truncated and
the Redis database flushed around each test that uses them.
Override the servers with TRIAGE_TEST_POSTGRES (an admin URL) and TRIAGE_TEST_REDIS (a server URL).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PG_ADMIN = os.environ.get("TRIAGE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER = os.environ.get("TRIAGE_TEST_REDIS", "redis://127.0.0.1:6379")
CLAIM_KEY = "triage-test-run"


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database of this test run's own (1-15), claimed with a key so parallel runs never share one."""
    from redis import Redis

    base = REDIS_SERVER.rstrip("/")
    for index in range(1, 16):
        conn = Redis.from_url(f"{base}/{index}")
        if conn.set(CLAIM_KEY, os.getpid(), nx=True, ex=6 * 3600):
            yield f"{base}/{index}"
            conn.delete(CLAIM_KEY)
            conn.close()
            return
        conn.close()
    pytest.fail("every Redis database 1-15 is claimed by another test run")


@pytest.fixture(scope="session")
def pg_url():
    """A fresh, migrated PostgreSQL database for this test session."""
    from sqlalchemy import create_engine, text

    from triage.store.db import upgrade

    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            " AND pid <> pg_backend_pid()"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    from triage.store.db import make_engine

    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(pg_url, pg_engine):
    """Empty tables before the test (the schema stays)."""
    from sqlalchemy import text

    from triage.store.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return pg_url


def _flush_keeping_claim(conn) -> None:
    conn.flushdb()
    conn.set(CLAIM_KEY, os.getpid(), ex=6 * 3600)  # a test may flush too; the next fixture re-claims


@pytest.fixture
def redis_conn(redis_url):
    from redis import Redis

    conn = Redis.from_url(redis_url)
    _flush_keeping_claim(conn)
    yield conn
    _flush_keeping_claim(conn)
    conn.close()


@pytest.fixture
def settings(db, redis_url, tmp_path):
    """Settings for a test installation: real PostgreSQL and Redis, files under tmp_path, no model."""
    from triage.config import Settings

    (tmp_path / "models").mkdir()
    return Settings(
        database_url=db, redis_url=redis_url, data_dir=tmp_path / "var", model_dir=tmp_path / "models",
        log_format="text", lease_seconds=60,
    )


@pytest.fixture
def runtime(settings, redis_conn):
    """A runtime on the test database and Redis, installed for job functions."""
    from triage import runtime as runtime_module
    from triage.queue import RQJobQueue
    from triage.runtime import Runtime

    rt = Runtime.build(settings, RQJobQueue(redis_conn))
    runtime_module.install(rt)
    yield rt
    runtime_module.install(None)  # type: ignore[arg-type]
    rt.engine.dispose()


@pytest.fixture
def intake(runtime):
    from triage.intake import Intake

    return Intake(runtime.sessions, runtime.blobs, runtime.queue, retries=runtime.settings.triage_retries)


@pytest.fixture
def private_redis():
    """A redis-server of the test's own, which the test may stop and start again on the same port."""

    class PrivateRedis:
        def __init__(self) -> None:
            self.port = free_port()
            self.proc: subprocess.Popen | None = None

        @property
        def url(self) -> str:
            return f"redis://127.0.0.1:{self.port}/0"

        def start(self) -> None:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_port(self.port)

        def stop(self) -> None:
            if self.proc:
                self.proc.kill()
                self.proc.wait()
                self.proc = None

    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
