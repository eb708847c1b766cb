"""Entities are pulled out as fields and masked, and ordinary numbers are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.classify.dataset import load_samples
from triage.classify.entities import RULES, find_entities, group_by_kind, mask

DATA = Path(__file__).resolve().parents[2] / "training_data"


def kinds(text: str) -> dict[str, list[str]]:
    return group_by_kind(find_entities(text))


@pytest.mark.parametrize("text, postcode", [
    ("I live at 14 Maple Close, PF3 7QA", "PF3 7QA"),
    ("postcode PF37QA", "PF3 7QA"),
    ("its ll29 8td", "LL29 8TD"),
    ("sw1a1aa please", "SW1A 1AA"),
    ("London EC1A 1BB", "EC1A 1BB"),
])
def test_postcodes_with_and_without_the_space_are_normalised(text, postcode):
    assert kinds(text)["postcode"] == [postcode]


@pytest.mark.parametrize("text, pcn", [
    ("I want to challenge PCN AB30498127", "AB30498127"),
    ("ticket ZY0184476A outside the care home", "ZY0184476A"),
    ("Penalty charge notice number: 12345678 issued", "12345678"),
    ("PCN no. AB 30498127", "AB30498127"),
])
def test_pcn_formats(text, pcn):
    assert kinds(text)["pcn"] == [pcn]


@pytest.mark.parametrize("text, account", [
    ("My account number is 40018827.", "40018827"),
    ("Account N0. 4OO23391", "40023391"),          # scanned letter: O for 0
    ("council tax a/c 4002 9983 thanks", "40029983"),
    ("Rhif cyfrif 40061189", "40061189"),
])
def test_council_tax_account_numbers(text, account):
    assert kinds(text)["council_tax_account"] == [account]


def test_planning_and_case_references():
    found = kinds("Objection to 24/01234/FUL, my earlier case was T-000123 and then T-O05520")
    assert found["planning_ref"] == ["24/01234/FUL"]
    assert found["case_ref"] == ["T-000123", "T-005520"]


def test_phones_emails_money_and_dates():
    found = kinds("Call 07700 900481 or +44 1632 960417, email Joe.Bloggs@example.com. "
                  "I paid £212.56 on 12 Feb 2026 and 65 pounds on 03/03/2026, and again on 2nd March")
    assert found["phone"] == ["07700900481", "+441632960417"]
    assert found["email"] == ["joe.bloggs@example.com"]
    assert found["money"] == ["£212.56", "65 pounds"]
    assert found["date"] == ["12 Feb 2026", "03/03/2026", "2nd March"]
    assert kinds("due February 5th 2026, or by Mawrth 2, not in March at all")["date"] == ["February 5th 2026",
                                                                                        "Mawrth 2"]


def test_ordinary_numbers_are_not_entities():
    text = ("I put out 3 bags, flat 12, the 2026 budget, 10 working days, route 42 at 07:30, "
            "year 10, 1500 residents, 45 minutes, 2 kids aged 4 and 7, house number 221, 100 yards")
    assert find_entities(text) == []


def test_a_pcn_is_not_also_a_phone_number_and_masking_uses_placeholders():
    text = "PCN AB30498127 for PF3 7QA"
    entities = find_entities(text)
    assert [e.kind for e in entities] == ["pcn", "postcode"]
    masked = mask(text, entities)
    assert "ENT_PCN" in masked and "ENT_POSTCODE" in masked
    assert "30498127" not in masked and "7QA" not in masked


def test_rules_skipped_for_a_missing_word_would_have_found_nothing():
    """A rule's `needs` only skips texts it cannot match: every match, in every corpus text and in mixed case,
    contains one of them."""
    texts = [s.text for s in load_samples(DATA)]
    texts += ["My Account No: 4411 2233", "Ticket Number AB12345678", "REF 24/01234/FUL", "T-000123", "Jo@Example.ORG"]
    matched = 0
    for rule in (r for r in RULES if r.needs):
        for text in texts:
            for match in rule.pattern.finditer(text):
                assert any(needed in match.group(0).lower() for needed in rule.needs), (rule.kind, match.group(0))
                matched += 1
    assert matched > 500
