"""Whom a reply greets: a person's name when the message gave one, never a team or an address."""

from __future__ import annotations

import pytest

from triage.templates.names import salutation_name


@pytest.mark.parametrize("given, greeted", [
    ("Priya Raman", "Priya Raman"),
    ("Mrs D. Pearce", "Mrs D. Pearce"),
    ("MR OWEN PRICE", "Mr Owen Price"),
    ("Siân O'Neill-Jones", "Siân O'Neill-Jones"),
    ('"Jo Bloggs"', "Jo Bloggs"),
    ("priya raman", "Priya Raman"),
])
def test_a_persons_name_is_used(given, greeted):
    assert salutation_name(given) == greeted


@pytest.mark.parametrize("given", [
    None, "", "Customer Services", "noreply", "Flat 4 Residents", "jo@example.org", "Housing Team",
    "Resident 5", "Acme Lettings Ltd", "The Occupier of 12 High Street and Family Members Here",
])
def test_anything_else_falls_back_to_dear_resident(given):
    assert salutation_name(given) is None
