"""Runtimes and web clients configured for the SMS, Telegram and web-chat tests."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.connectors.payloads import TELEGRAM_SECRET, TWILIO_SID, TWILIO_TOKEN
from tests.helpers import free_port
from triage import runtime as runtime_module
from triage.store.db import make_engine, session_factory
from triage.web.app import create_app

CHANNEL_SETTINGS = {
    "twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN, "twilio_from": "+447400123456",
    "telegram_token": "123456:TEST-token-for-the-fake-bot-api", "telegram_secret": TELEGRAM_SECRET,
}


def runtime_with(rt, **settings):
    """The test runtime with channel settings (installed, so jobs see the same ones)."""
    configured = replace(rt, settings=rt.settings.model_copy(update={**CHANNEL_SETTINGS, **settings}))
    runtime_module.install(configured)
    return configured


def client_for(rt) -> TestClient:
    return TestClient(create_app(rt), raise_server_exceptions=False)


def without_database(rt):
    """The same runtime, but its database is a port nobody listens on."""
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    return replace(rt, engine=dead, sessions=session_factory(dead))


def count(rt, model, *where) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))
