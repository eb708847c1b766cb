"""The council's reporting duties: NI14 avoidable contact and service-standard performance.

The figures are pure functions over plain rows, so they can be checked by hand
on a small table; `contact_rows` and `case_rows` are the only database reads.
Date ranges are Europe/London calendar dates, both ends included, applied to
when the message or case was received.

A response counts from the moment the resident was answered, or, for a case
closed without a reply from us (a duplicate, withdrawn), from when it was closed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.deadlines import LONDON, london_date
from triage.store.models import Case, Message

AVOIDABLE_REASONS = ("none", "progress_chasing", "service_failure", "seeking_clarification",
                     "resubmitting_information", "misdirected", "self_service_available")
"""The NI14 families in the taxonomy's order; `none` is value demand, every other is avoidable."""


@dataclass(frozen=True)
class ContactRow:
    service: str | None
    channel: str
    avoidable_reason: str | None


@dataclass(frozen=True)
class Ni14Line:
    breakdown: str
    """`service`, `channel` or `all`."""
    name: str
    counts: dict[str, int]
    total: int
    avoidable: int

    @property
    def percent_avoidable(self) -> float | None:
        return round(100 * self.avoidable / self.total, 1) if self.total else None


@dataclass(frozen=True)
class Ni14Report:
    start: date
    end: date
    lines: list[Ni14Line]
    unlabelled: int
    """Contacts not (yet) labelled, left out of every figure."""


def ni14(rows: Iterable[ContactRow], start: date, end: date) -> Ni14Report:
    by_service: dict[str, Counter] = {}
    by_channel: dict[str, Counter] = {}
    overall: Counter = Counter()
    unlabelled = 0
    for row in rows:
        if row.avoidable_reason is None:
            unlabelled += 1
            continue
        by_service.setdefault(row.service or "unknown", Counter())[row.avoidable_reason] += 1
        by_channel.setdefault(row.channel, Counter())[row.avoidable_reason] += 1
        overall[row.avoidable_reason] += 1
    lines = [_line("service", name, counts) for name, counts in sorted(by_service.items())]
    lines += [_line("channel", name, counts) for name, counts in sorted(by_channel.items())]
    lines.append(_line("all", "all", overall))
    return Ni14Report(start, end, lines, unlabelled)


def _line(breakdown: str, name: str, counts: Counter) -> Ni14Line:
    total = sum(counts.values())
    return Ni14Line(breakdown, name, {reason: counts.get(reason, 0) for reason in AVOIDABLE_REASONS}, total,
                    total - counts.get("none", 0))


def ni14_csv(report: Ni14Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["breakdown", "name", "total", "avoidable", "percent_avoidable", *AVOIDABLE_REASONS])
    for line in report.lines:
        writer.writerow([line.breakdown, line.name, line.total, line.avoidable,
                         "" if line.percent_avoidable is None else f"{line.percent_avoidable:.1f}",
                         *(line.counts[reason] for reason in AVOIDABLE_REASONS)])
    return out.getvalue()


@dataclass(frozen=True)
class CaseRow:
    reference: str
    service: str | None
    channel: str
    received_at: datetime
    processed_by: date | None
    processed_at: datetime | None
    respond_by: date | None
    """The measured date: a holding reply's promise, else the standard respond-by date."""
    responded_at: datetime | None


@dataclass(frozen=True)
class Standard:
    """One deadline across the cases: met and breached so far; pending ones are not yet due."""

    met: int
    breached: int
    pending: int

    @property
    def percent_met(self) -> float | None:
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None


@dataclass(frozen=True)
class Outcome:
    row: CaseRow
    processing: str
    response: str


@dataclass(frozen=True)
class PerformanceReport:
    start: date
    end: date
    processing: Standard
    response: Standard
    outcomes: list[Outcome]

    @property
    def breaches(self) -> list[Outcome]:
        return [o for o in self.outcomes if "breached" in (o.processing, o.response)]


def outcome(due: date | None, done_at: datetime | None, today: date) -> str:
    """met, breached, or pending (not done and not yet overdue); a case without a deadline is pending."""
    if due is None:
        return "pending"
    if done_at is not None:
        return "met" if london_date(done_at) <= due else "breached"
    return "breached" if today > due else "pending"


def performance(rows: Iterable[CaseRow], start: date, end: date, today: date) -> PerformanceReport:
    outcomes = [Outcome(row, outcome(row.processed_by, row.processed_at, today),
                        outcome(row.respond_by, row.responded_at, today)) for row in rows]
    return PerformanceReport(start, end, _standard(o.processing for o in outcomes),
                             _standard(o.response for o in outcomes), outcomes)


def _standard(states: Iterable[str]) -> Standard:
    counts = Counter(states)
    return Standard(counts["met"], counts["breached"], counts["pending"])


def performance_csv(report: PerformanceReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["reference", "service", "channel", "received", "processed_by", "processed_on", "processing",
                     "respond_by", "responded_on", "response"])
    for o in report.outcomes:
        row = o.row
        writer.writerow([row.reference, row.service or "", row.channel, london_date(row.received_at).isoformat(),
                         _iso(row.processed_by), _iso(row.processed_at), o.processing, _iso(row.respond_by),
                         _iso(row.responded_at), o.response])
    return out.getvalue()


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return london_date(value).isoformat() if isinstance(value, datetime) else value.isoformat()


def london_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants from the start of `start` to the start of the day after `end`, London time."""
    if end < start:
        raise ValueError("the end date is before the start date")
    return (datetime.combine(start, time(), LONDON), datetime.combine(end + timedelta(days=1), time(), LONDON))


def contact_rows(session: Session, start: date, end: date) -> list[ContactRow]:
    """Residents' messages received in the range; automatic mail (bounces, out-of-office) is not contact."""
    since, until = london_bounds(start, end)
    query = select(Message.service, Message.channel, Message.avoidable_reason).where(
        Message.kind == "contact", Message.status != "recorded", Message.received_at >= since,
        Message.received_at < until)
    return [ContactRow(*row) for row in session.execute(query)]


def case_rows(session: Session, start: date, end: date) -> list[CaseRow]:
    since, until = london_bounds(start, end)
    query = select(Case).where(Case.received_at >= since, Case.received_at < until).order_by(Case.received_at,
                                                                                               Case.id)
    return [CaseRow(case.reference or str(case.id), case.service, case.channel, case.received_at,
                    case.processed_by, case.processed_at, case.measured_respond_by,
                    case.responded_at or case.resolved_at) for case in session.scalars(query)]
