"""`/healthz` (can we store and queue?) and `/metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from triage.metrics import TriageCollector
from triage.queue import QueueUnavailable
from triage.web.deps import RuntimeDep

router = APIRouter()


@router.get("/healthz")
def healthz(rt: RuntimeDep) -> JSONResponse:
    checks = {"database": "ok", "queue": "ok"}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is "down"
        checks["database"] = f"down: {exc.__class__.__name__}"
    try:
        rt.queue.depth()
    except QueueUnavailable as exc:
        checks["queue"] = f"down: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "unavailable", "queue_kind": rt.queue.kind, **checks},
                        status_code=200 if healthy else 503)


@router.get("/metrics")
def metrics(rt: RuntimeDep) -> Response:
    registry = CollectorRegistry()
    registry.register(TriageCollector(rt.sessions, rt.queue))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
