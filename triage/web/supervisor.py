"""Supervisors' pages: the reporting duties (with CSV download) and the classifier models.

A model is promoted here only if its card's held-out figures pass the same gate
as `triage models promote`; overriding the gate stays a deliberate command-line
act (`--force`), never a button.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, date, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from triage import reports
from triage.deadlines import london_date
from triage.store.models import TrainingSample
from triage.web.deps import RuntimeDep
from triage.web.staff_auth import StaffCsrf, SupervisorDep, render

log = logging.getLogger(__name__)
router = APIRouter(prefix="/staff")

REPORT_KINDS = ("ni14", "performance")


def _parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    first = date.fromisoformat(start) if start else today.replace(day=1)
    last = date.fromisoformat(end) if end else today
    if last < first:
        raise ValueError("the end date is before the start date")
    return first, last


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, rt: RuntimeDep, user: SupervisorDep, kind: str = "ni14",
                 start: str | None = None, end: str | None = None, format: str = "html") -> Response:
    today = london_date(datetime.now(UTC))
    kind = kind if kind in REPORT_KINDS else "ni14"
    try:
        first, last = _parse_range(start, end, today)
    except ValueError as exc:
        return render(request, "reports.html", status_code=400, user=user, kind=kind, report=None, error=str(exc),
                      start=start, end=end)
    with rt.sessions() as session:
        if kind == "ni14":
            report = reports.ni14(reports.contact_rows(session, first, last), first, last)
        else:
            report = reports.performance(reports.case_rows(session, first, last), first, last, today)
    if format == "csv":
        body = reports.ni14_csv(report) if kind == "ni14" else reports.performance_csv(report)
        filename = f"{kind}-{first.isoformat()}-{last.isoformat()}.csv"
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return render(request, "reports.html", user=user, kind=kind, report=report, error=None, start=first.isoformat(),
                  end=last.isoformat(), reasons=reports.AVOIDABLE_REASONS)


def corrections_waiting(session, since: str | None) -> int:
    """Corrections made after the current model was trained, which `triage train --include-corrections` adds."""
    query = select(func.count()).select_from(TrainingSample).where(TrainingSample.source == "correction")
    with contextlib.suppress(ValueError):  # a card without a readable date: every correction counts as waiting
        query = query.where(TrainingSample.created_at > datetime.fromisoformat(since)) if since else query
    return session.scalar(query) or 0


@router.get("/models", response_class=HTMLResponse)
def models_view(request: Request, rt: RuntimeDep, user: SupervisorDep) -> HTMLResponse:
    return models_page(request, rt, user)


def models_page(request: Request, rt, user, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    from triage.classify.registry import list_models

    entries = list_models(rt.settings.model_dir)
    current = next((entry for entry in entries if entry.current), None)
    with rt.sessions() as session:
        waiting = corrections_waiting(session, current.created if current else None)
    return render(request, "models.html", status_code=status_code, user=user, entries=entries, current=current,
                  waiting=waiting, error=error, flash=request.session.pop("flash", None))


@router.post("/models/promote", dependencies=[StaffCsrf])
def promote(request: Request, rt: RuntimeDep, user: SupervisorDep, version: str = Form()) -> Response:
    from triage.classify.promotion import gate
    from triage.classify.registry import ModelNotFound, list_models, set_current

    entries = {entry.version: entry for entry in list_models(rt.settings.model_dir)}
    candidate = entries.get(version)
    current = next((entry for entry in entries.values() if entry.current), None)
    if candidate is None or candidate.current:
        return models_page(request, rt, user, error=f"{version} is not a model that can be promoted",
                           status_code=400)
    if current is not None:
        try:
            result = gate(candidate.summary, current.summary, rt.settings.promotion_tolerance)
        except KeyError as exc:
            return models_page(request, rt, user, status_code=400,
                               error=f"a model card lacks the figure {exc}; promote with `triage models promote`")
        if not result.passed:
            return models_page(request, rt, user, status_code=400,
                               error="Not promoted: " + "; ".join(result.refusals))
    try:
        set_current(rt.settings.model_dir, version, action="promote", actor=user.actor,
                    note="promoted from the staff pages (model-card gate passed)")
    except ModelNotFound as exc:
        return models_page(request, rt, user, error=str(exc), status_code=400)
    log.info("model promoted", extra={"version": version, "staff_user_id": user.id})
    request.session["flash"] = f"{version} is now the current model."
    return RedirectResponse("/staff/models", status_code=303)


@router.post("/models/rollback", dependencies=[StaffCsrf])
def rollback(request: Request, rt: RuntimeDep, user: SupervisorDep) -> Response:
    from triage.classify.registry import ModelNotFound
    from triage.classify.registry import rollback as roll_back

    try:
        version = roll_back(rt.settings.model_dir, actor=user.actor)
    except ModelNotFound as exc:
        return models_page(request, rt, user, error=str(exc), status_code=400)
    log.info("model rolled back", extra={"version": version, "staff_user_id": user.id})
    request.session["flash"] = f"Rolled back: {version} is the current model again."
    return RedirectResponse("/staff/models", status_code=303)
