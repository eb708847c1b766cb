"""FastAPI application factory.

Routes get the process's `Runtime` through `request.app.state.runtime` (see
`deps.py`), never from a global, so tests can build an app around any runtime.
"""

from __future__ import annotations

from fastapi import FastAPI

from triage.runtime import Runtime
from triage.web import chat, health, post, sms, staff_auth, telegram


def create_app(rt: Runtime) -> FastAPI:
    app = FastAPI(title="triage", docs_url=None, redoc_url=None)
    app.state.runtime = rt
    app.include_router(health.router)
    app.include_router(sms.router)
    app.include_router(telegram.router)
    app.include_router(post.router)
    chat.install(app, rt)
    staff_auth.install(app, rt)
    return app
