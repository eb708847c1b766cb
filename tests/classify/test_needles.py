"""Needles read off a pattern: every match contains one, and a pattern without a sure literal gets none."""

from __future__ import annotations

import re

import pytest

from triage.classify.needles import could_match, needles


@pytest.mark.parametrize("pattern, shortest, expected", [
    (r"\bgas\s+leak", 3, {"leak"}),
    (r"\b(?:used\s+)?needles?\b", 3, {"needle"}),
    (r"\b(?:he|she)\s+(?:hit|punched)\b|\bpunched\b", 3, {"hit", "punched"}),
    (r"\bsuicid\w*|\bkill\s+myself", 3, {"suicid", "myself"}),
    (r"\b\d+\s*weeks?\s+old\b", 3, {"week"}),
    (r"\b(?:gas)?\s*le", 3, None),
    (r"\b[7-9]\d\b", 3, None),
    (r"\bat\b", 3, None),
    (r"\b[\w.]+@\w+", 1, {"@"}),
])
def test_needles_are_derived_only_where_every_match_must_contain_one(pattern, shortest, expected):
    assert needles(re.compile(pattern), shortest) == (None if expected is None else frozenset(expected))


def test_needles_of_a_case_insensitive_pattern_are_lower_case():
    pattern = re.compile(r"\b(?:PCN|Penalty Charge)\s*(?:no|number)?\s*\d{8}", re.I)
    found = needles(pattern)
    assert found and all(needle == needle.lower() for needle in found)
    matches = list(pattern.finditer("pcn 12345678, PENALTY CHARGE no 87654321, Pcn 11112222"))
    assert len(matches) == 3
    assert all(any(needle in match.group(0).lower() for needle in found) for match in matches)


def test_a_pattern_without_needles_could_always_match():
    assert could_match(None, "anything at all")
    assert could_match(frozenset({"leak"}), "a gas leak here")
    assert not could_match(frozenset({"leak", "smell"}), "a broken street light")


def test_without_the_private_regex_parser_every_pattern_is_always_searched(monkeypatch):
    """`re._parser` is private; a Python that moves it costs speed, not matches."""
    import triage.classify.needles as module

    monkeypatch.setattr(module, "sre_parse", None)
    found = module.needles(re.compile(r"\bgas\s+leak"), 3)
    assert found is None
    assert could_match(found, "a broken street light")
