"""`triage staff add` reads the password (never an argument); `triage report` prints the figures."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from triage.accounts import verify_password
from triage.store.models import StaffUser


def triage(settings, *args, stdin: str = ""):
    env = {**os.environ, "TRIAGE_DATABASE_URL": settings.database_url, "TRIAGE_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_staff_add_reads_the_password_from_stdin_and_stores_only_a_hash(settings, pg_engine):
    result = triage(settings, "staff", "add", "alice", "--role", "supervisor", stdin="a long passphrase here\n")
    assert result.returncode == 0, result.stderr
    with pg_engine.connect() as conn:
        user = conn.execute(select(StaffUser)).one()
    assert (user.username, user.role, user.active) == ("alice", "supervisor", True)
    assert user.password_hash.startswith("scrypt$") and "passphrase" not in user.password_hash
    assert verify_password("a long passphrase here", user.password_hash)
    assert not verify_password("a long passphrase herE", user.password_hash)


def test_staff_add_refuses_weak_passwords_duplicates_and_unknown_roles_in_one_line(settings):
    short = triage(settings, "staff", "add", "bob", "--role", "agent", stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr and "Traceback" not in short.stderr
    assert triage(settings, "staff", "add", "bob", "--role", "agent", stdin="long enough password\n").returncode == 0
    again = triage(settings, "staff", "add", "bob", "--role", "agent", stdin="long enough password\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert triage(settings, "staff", "add", "carol", "--role", "admin").returncode == 2


def test_report_cli_prints_a_table_or_csv_and_refuses_bad_dates(settings, pg_engine):
    table = triage(settings, "report", "ni14", "--from", "2026-04-01", "--to", "2026-04-30")
    assert table.returncode == 0, table.stderr
    assert "NI14 avoidable contact, 2026-04-01 to 2026-04-30" in table.stdout
    csv = triage(settings, "report", "performance", "--from", "2026-04-01", "--to", "2026-04-30", "--csv")
    assert csv.returncode == 0 and csv.stdout.startswith("reference,service,channel,received")
    backwards = triage(settings, "report", "ni14", "--from", "2026-04-30", "--to", "2026-04-01")
    assert backwards.returncode == 2 and len(backwards.stderr.strip().splitlines()) == 1
    assert triage(settings, "report", "ni14", "--from", "April", "--to", "2026-04-01").returncode == 2
