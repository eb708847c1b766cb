"""Business days and the service-standard deadlines (pure: no I/O, no clock).

The rule: take the received time in Europe/London; day 0 is that date if it is a
business day, else the next business day; `processed_by` is day 0 plus the
policy's processing days and `respond_by` day 0 plus its response days. Both are
dates, due by the end of that day. A holding reply's promised date replaces
`respond_by` as what the case is measured against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

REGION_SUBDIVISIONS: Mapping[str, str] = {
    "england-and-wales": "ENG",  # Wales shares England's bank holidays
    "scotland": "SCT",
    "northern-ireland": "NIR",
}
DEFAULT_REGION = "england-and-wales"

SlaState = Literal["ok", "at_risk", "breached", "met"]


class UnknownRegion(ValueError):
    pass


@lru_cache(maxsize=8)
def _holidays(region: str):
    """The `holidays` calendar for a region; expanded year by year as dates are asked for."""
    try:
        subdiv = REGION_SUBDIVISIONS[region]
    except KeyError:
        raise UnknownRegion(
            f"unknown region {region!r} (choose from {', '.join(REGION_SUBDIVISIONS)})"
        ) from None
    import holidays  # lazy: keeps `triage deadlines` fast to start

    return holidays.UK(subdiv=subdiv)


def is_business_day(day: date, region: str = DEFAULT_REGION) -> bool:
    return day.weekday() < 5 and day not in _holidays(region)


def next_business_day_on_or_after(day: date, region: str = DEFAULT_REGION) -> date:
    while not is_business_day(day, region):
        day += timedelta(days=1)
    return day


def add_business_days(start: date, days: int, region: str = DEFAULT_REGION) -> date:
    """`start` plus `days` business days (start itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, region):
            remaining -= 1
    return current


def business_days_between(start: date, end: date, region: str = DEFAULT_REGION) -> int:
    """Business days after `start` up to and including `end` (negative if `end` is earlier)."""
    if end < start:
        return -business_days_between(end, start, region)
    return sum(
        1 for offset in range(1, (end - start).days + 1) if is_business_day(start + timedelta(offset), region)
    )


def london_date(moment: datetime) -> date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must carry a UTC offset")
    return moment.astimezone(LONDON).date()


@dataclass(frozen=True)
class DeadlinePolicy:
    process_days: int = 2
    respond_days: int = 5


DEFAULT_POLICY = DeadlinePolicy()


@dataclass(frozen=True)
class PolicyTable:
    """Deadline policies by (service, contact_type); `*` matches anything, the most specific wins."""

    rules: Mapping[tuple[str, str], DeadlinePolicy]
    default: DeadlinePolicy = DEFAULT_POLICY

    def for_labels(self, service: str | None, contact_type: str | None) -> DeadlinePolicy:
        service = service or "*"
        contact_type = contact_type or "*"
        for key in ((service, contact_type), (service, "*"), ("*", contact_type)):
            if key in self.rules:
                return self.rules[key]
        return self.default

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, object]]) -> PolicyTable:
        """Build from config rows like `{service="governance", contact_type="*", respond_days=10}`."""
        rules: dict[tuple[str, str], DeadlinePolicy] = {}
        default = DEFAULT_POLICY
        for entry in entries:
            policy = DeadlinePolicy(
                process_days=int(entry.get("process_days", DEFAULT_POLICY.process_days)),  # type: ignore[arg-type]
                respond_days=int(entry.get("respond_days", DEFAULT_POLICY.respond_days)),  # type: ignore[arg-type]
            )
            key = (str(entry.get("service", "*")), str(entry.get("contact_type", "*")))
            if key == ("*", "*"):
                default = policy
            else:
                rules[key] = policy
        return cls(rules=rules, default=default)


@dataclass(frozen=True)
class Deadlines:
    day_zero: date
    processed_by: date
    respond_by: date


def compute_deadlines(
    received_at: datetime, region: str = DEFAULT_REGION, policy: DeadlinePolicy = DEFAULT_POLICY
) -> Deadlines:
    day0 = next_business_day_on_or_after(london_date(received_at), region)
    return Deadlines(
        day_zero=day0,
        processed_by=add_business_days(day0, policy.process_days, region),
        respond_by=add_business_days(day0, policy.respond_days, region),
    )


def sla_state(
    now: datetime,
    *,
    due: date,
    done_at: datetime | None,
    region: str = DEFAULT_REGION,
) -> SlaState:
    """Where one deadline stands: met, breached, at risk (due today or next business day) or ok."""
    if done_at is not None:
        return "met" if london_date(done_at) <= due else "breached"
    today = london_date(now)
    if today > due:
        return "breached"
    if due <= add_business_days(today, 1, region):
        return "at_risk"
    return "ok"
