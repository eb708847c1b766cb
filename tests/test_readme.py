"""The README is the newcomer's contract: every setting documented, the two commands present."""

from __future__ import annotations

import re

from tests.conftest import REPO
from triage.config import Settings


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(r"`(TRIAGE_[A-Z_]+)`", readme()))
    expected = {f"TRIAGE_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()
    assert documented - expected == set(), "README documents settings that do not exist"


def test_quick_start_has_the_two_commands_and_ci_runs_the_test_one():
    text = readme()
    assert "make run" in text and "make test" in text
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
