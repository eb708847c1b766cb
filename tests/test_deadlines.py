"""Business-day deadlines: the rule, UK bank holidays by region, and Europe/London dates."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from triage.deadlines import (
    DeadlinePolicy,
    PolicyTable,
    add_business_days,
    compute_deadlines,
    is_business_day,
    sla_state,
)

EW, SCT, NI = "england-and-wales", "scotland", "northern-ireland"


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.mark.parametrize(
    ("received", "region", "processed_by", "respond_by"),
    [
        # An ordinary Monday: day 0 is the Monday itself.
        ("2026-11-23T10:00:00+00:00", EW, "2026-11-25", "2026-11-30"),
        # Friday evening: day 0 is Friday; weekends are skipped.
        ("2026-11-27T18:45:00+00:00", EW, "2026-12-01", "2026-12-04"),
        # Saturday: day 0 is the next Monday.
        ("2026-11-28T09:00:00+00:00", EW, "2026-12-02", "2026-12-07"),
        # Christmas Eve 2026 (Thu): Christmas Fri, Boxing Day Sat -> substitute Mon 28th.
        ("2026-12-24T16:30:00+00:00", EW, "2026-12-30", "2027-01-05"),
        # Received on Christmas Day: day 0 is Tue 29 Dec.
        ("2026-12-25T12:00:00+00:00", EW, "2026-12-31", "2027-01-06"),
        # New Year's Eve: 1 Jan is a holiday (in Scotland 2 Jan too, a Saturday, observed on Mon 4th).
        ("2026-12-31T11:00:00+00:00", EW, "2027-01-05", "2027-01-08"),
        ("2026-12-31T11:00:00+00:00", SCT, "2027-01-06", "2027-01-11"),
        # Christmas 2027: both days fall at the weekend -> substitute days Mon 27 and Tue 28 Dec.
        ("2027-12-24T09:00:00+00:00", EW, "2027-12-30", "2028-01-05"),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March (not a holiday in Scotland).
        ("2027-03-25T10:00:00+00:00", EW, "2027-03-31", "2027-04-05"),
        ("2027-03-25T10:00:00+00:00", SCT, "2027-03-30", "2027-04-02"),
        # Early May bank holiday 2027 (Mon 3 May) and spring bank holiday (Mon 31 May).
        ("2027-04-30T10:00:00+01:00", EW, "2027-05-05", "2027-05-10"),
        ("2027-05-28T10:00:00+01:00", EW, "2027-06-02", "2027-06-07"),
        # August: Scotland's holiday is the first Monday (3 Aug 2026), elsewhere the last (31 Aug).
        ("2026-07-31T10:00:00+01:00", SCT, "2026-08-05", "2026-08-10"),
        ("2026-07-31T10:00:00+01:00", EW, "2026-08-04", "2026-08-07"),
        ("2026-08-28T10:00:00+01:00", EW, "2026-09-02", "2026-09-07"),
        ("2026-08-28T10:00:00+01:00", SCT, "2026-09-01", "2026-09-04"),
        # Northern Ireland: St Patrick's Day (Tue 17 Mar 2026) and the Twelfth (Sun 12 Jul -> Mon 13 Jul).
        ("2026-03-16T10:00:00+00:00", NI, "2026-03-19", "2026-03-24"),
        ("2026-03-16T10:00:00+00:00", EW, "2026-03-18", "2026-03-23"),
        ("2026-07-10T10:00:00+01:00", NI, "2026-07-15", "2026-07-20"),
        ("2026-07-10T10:00:00+01:00", EW, "2026-07-14", "2026-07-17"),
    ],
)
def test_deadlines_follow_the_rule(received, region, processed_by, respond_by):
    deadlines = compute_deadlines(at(received), region)
    assert deadlines.processed_by.isoformat() == processed_by
    assert deadlines.respond_by.isoformat() == respond_by


def test_just_after_midnight_in_summer_counts_as_the_london_date():
    # 23:30 UTC on Friday 3 July 2026 is 00:30 BST on Saturday: day 0 becomes Monday 6 July.
    friday_utc = compute_deadlines(at("2026-07-03T23:30:00+00:00"))
    assert friday_utc.day_zero == date(2026, 7, 6)
    assert friday_utc.processed_by == date(2026, 7, 8)
    # 22:59 UTC is still Friday in London.
    assert compute_deadlines(at("2026-07-03T22:59:00+00:00")).day_zero == date(2026, 7, 3)


def test_the_night_the_clocks_change():
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026; the Sunday itself is not a business day.
    assert compute_deadlines(at("2026-03-29T01:30:00+00:00")).day_zero == date(2026, 3, 30)
    # Clocks go back at 01:00 UTC on Sunday 25 October 2026; 23:30 UTC on Sunday is 23:30 GMT Sunday.
    assert compute_deadlines(at("2026-10-25T23:30:00+00:00")).day_zero == date(2026, 10, 26)
    # 23:30 UTC on Monday 30 March 2026 is 00:30 BST on Tuesday.
    assert compute_deadlines(at("2026-03-30T23:30:00+00:00")).day_zero == date(2026, 3, 31)


def test_timestamps_without_an_offset_are_refused():
    with pytest.raises(ValueError):
        compute_deadlines(datetime(2026, 11, 23, 10, 0))


def test_unknown_region_is_refused():
    with pytest.raises(ValueError, match="unknown region"):
        is_business_day(date(2026, 11, 23), "wessex")


def test_policies_pick_the_most_specific_rule():
    table = PolicyTable.from_config([
        {"service": "*", "contact_type": "*", "process_days": 2, "respond_days": 5},
        {"service": "*", "contact_type": "information_rights", "respond_days": 20},
        {"service": "governance", "contact_type": "*", "respond_days": 10},
        {"service": "governance", "contact_type": "information_rights", "respond_days": 20},
    ])
    assert table.for_labels("waste_recycling", "report_issue") == DeadlinePolicy(2, 5)
    assert table.for_labels("governance", "complaint").respond_days == 10
    assert table.for_labels("housing", "information_rights").respond_days == 20
    assert table.for_labels(None, None) == DeadlinePolicy(2, 5)
    foi = compute_deadlines(at("2026-11-23T10:00:00+00:00"), EW, table.for_labels("parking", "information_rights"))
    assert foi.respond_by == date(2026, 12, 21)


def test_sla_states():
    due = date(2026, 11, 25)  # a Wednesday
    assert sla_state(at("2026-11-23T09:00:00+00:00"), due=due, done_at=None) == "ok"
    assert sla_state(at("2026-11-24T09:00:00+00:00"), due=due, done_at=None) == "at_risk"
    assert sla_state(at("2026-11-25T16:59:00+00:00"), due=due, done_at=None) == "at_risk"
    assert sla_state(at("2026-11-26T00:01:00+00:00"), due=due, done_at=None) == "breached"
    assert sla_state(at("2026-11-30T09:00:00+00:00"), due=due,
                     done_at=at("2026-11-25T16:00:00+00:00")) == "met"


def test_add_business_days_skips_weekends_and_holidays():
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_business_days(date(2026, 12, 24), 0) == date(2026, 12, 24)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage.cli", "deadlines", *args],
                          capture_output=True, text=True, timeout=60)


def test_cli_prints_one_json_object_per_timestamp():
    result = run_cli("2026-12-24T16:30:00Z", "2026-07-31T10:00:00+01:00", "--region", "scotland")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"received": "2026-12-24T16:30:00Z", "region": "scotland",
         "processed_by": "2026-12-30", "respond_by": "2027-01-06"},
        {"received": "2026-07-31T10:00:00+01:00", "region": "scotland",
         "processed_by": "2026-08-05", "respond_by": "2026-08-10"},
    ]


@pytest.mark.parametrize("args", [("2026-12-24T16:30:00",), ("--region", "wessex", "2026-12-24T16:30:00Z"),
                                  ("yesterday",)])
def test_cli_refuses_bad_input_with_one_line_and_status_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_business_day_dates_are_judged_in_london_not_utc():
    # 23:30 UTC on Thursday 24 December 2026 is still Christmas Eve in London (GMT).
    assert compute_deadlines(datetime(2026, 12, 24, 23, 30, tzinfo=UTC)).day_zero == date(2026, 12, 24)
