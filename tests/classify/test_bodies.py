"""Outside bodies: mentions found by name, recorded on the message, and given to the models as a kind token."""

import json
import re

import pytest

from triage.classify.bodies import DIRECTORY_FILE, body_tokens, find_bodies, load_directory
from triage.classify.textprep import prepare


@pytest.mark.parametrize(("text", "expected"), [
    ("My BRP expired and the Home Office haven't sent the eVisa",
     [("identity_travel_documents", "BRP"), ("identity_travel_documents", "Home Office"),
      ("identity_travel_documents", "eVisa")]),
    ("went to A & E last night then rang 101", [("health", "A & E"), ("police_and_justice", "rang 101")]),
    ("Dw i wedi cael bil gan Dŵr Cymru", [("utilities", "Dŵr Cymru")]),
    ("L&Q still haven't fixed the boiler", [("housing_providers", "L & Q")]),
    ("my Universal Credit was stopped", [("national_benefits", "Universal Credit")]),
    ("The Canal and River Trust towpath", [("transport_operators", "Canal and River Trust"),
                                          ("transport_operators", "towpath")]),
])
def test_names_are_found_with_their_kind(text, expected):
    assert find_bodies(text) == expected


@pytest.mark.parametrize("text", [
    "the bottle bank at Tesco is overflowing",
    "my uc is stopped",  # acronyms count only in capitals: "uc" could be anything in text-speak
    "I pip my horn at the bin lorry",
    "flat 101 Station Road, 999 days of roadworks",
])
def test_ordinary_words_are_not_bodies(text):
    assert find_bodies(text) == []


def test_the_longest_name_wins_at_a_word():
    assert find_bodies("Jobcentre Plus said") == [("national_benefits", "Jobcentre Plus")]


def test_a_mention_is_an_entity_and_a_feature_token():
    doc = prepare("Can you chase the DVLA about my driving licence?", channel="sms")
    assert doc.entities["organisation"] == ["DVLA", "driving licence"]
    assert doc.masked.endswith("OUTSIDE_IDENTITY_TRAVEL_DOCUMENTS")
    assert "organisation" not in prepare("my bin was missed", channel="sms").entities


def test_one_token_per_kind():
    assert body_tokens([("health", "GP"), ("health", "NHS"), ("utilities", "EDF")]) == "OUTSIDE_HEALTH OUTSIDE_UTILITIES"


def test_every_directory_name_is_matchable():
    kinds = json.loads(DIRECTORY_FILE.read_text(encoding="utf-8"))["kinds"]
    directory = load_directory()
    for kind, spec in kinds.items():
        for name in spec["names"]:
            as_written = " ".join(re.findall(r"[^\W_]+|&", name))
            assert find_bodies(f"about {name} today", directory) == [(kind, as_written)], name
        for acronym in spec.get("exact_case", ()):
            assert acronym.isupper() and find_bodies(f"the {acronym} said", directory) == [(kind, acronym)]
