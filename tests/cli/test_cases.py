"""`triage cases list --json`: the contract acceptance checks rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import update

from tests.helpers import drain, make_message
from triage.message import Identity
from triage.store.models import Case


def cases_cli(settings, *args):
    env = {**os.environ, "TRIAGE_DATABASE_URL": settings.database_url, "TRIAGE_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "triage.cli", "cases", "list", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_lists_open_cases_as_json_lines_and_closed_ones_with_all(runtime, intake, settings):
    intake.accept(make_message("first", received_at=make_message().received_at.replace(2026, 12, 24, 16)))
    intake.accept(make_message("second", channel="sms", external_id="SM9", sender=Identity("phone", "+447700900123")))
    drain(runtime)
    with runtime.sessions.begin() as s:
        s.execute(update(Case).where(Case.id == 2).values(status="closed", resolution="answered"))

    result = cases_cli(settings, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["reference"] for r in rows] == ["T-000001"]
    required = {"reference", "status", "channel", "service", "contact_type", "avoidable_reason", "urgent",
                "language", "processed_by", "respond_by"}
    assert required <= rows[0].keys()
    assert rows[0]["channel"] == "email" and rows[0]["urgent"] is False
    assert (rows[0]["processed_by"], rows[0]["respond_by"]) == ("2026-12-30", "2027-01-05")

    everything = [json.loads(line) for line in cases_cli(settings, "--json", "--all").stdout.splitlines()]
    assert {r["reference"]: r["status"] for r in everything} == {"T-000001": "open", "T-000002": "closed"}


def test_bad_arguments_give_one_line_and_no_traceback(settings):
    result = subprocess.run([sys.executable, "-m", "triage.cli", "cases", "delete"], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bad_configuration_gives_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "TRIAGE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
           "TRIAGE_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "triage.cli", "cases", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    env = {**os.environ, "TRIAGE_REGION": "wessex", "TRIAGE_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "triage.cli", "cases", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "TRIAGE_REGION" in result.stderr
