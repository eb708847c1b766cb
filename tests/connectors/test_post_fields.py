"""Scanned post, the pure parts: what a file is, and who wrote the letter (no OCR, no servers)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.connectors.post_letters import (
    ENGLISH_BIN,
    ENGLISH_NO_CONTACT,
    WELSH_LIBRARY,
    draw_letter,
    encode,
    encrypted_pdf,
    text_pdf,
)
from triage.connectors.post.address import envelope_lines, find_postcode, postal_identity
from triage.connectors.post.files import BadScan, inspect, sniff
from triage.connectors.post.letter_fields import OwnDetails, extract, parse_date
from triage.council import load_council
from triage.message import Identity

OWN = OwnDetails.from_council(load_council().raw)
LIMITS = {"max_bytes": 5 * 1024 * 1024, "max_pages": 3}


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff"), ("PDF", "pdf")])
def test_types_are_told_by_their_magic_bytes(fmt, kind):
    page = draw_letter(ENGLISH_BIN, dpi=40)
    assert sniff(encode([page], fmt))[0] == kind


def test_a_multi_page_tiff_counts_its_pages():
    page = draw_letter(ENGLISH_BIN, dpi=40)
    assert inspect(encode([page, page], "TIFF"), **LIMITS).pages == 2


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"PK\x03\x04 a Word document is a zip file", "unsupported_type"),
    (b"%PDF-1.7\nthis is not really a PDF at all", "corrupt"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR truncated", "corrupt"),
])
def test_bad_files_are_refused_with_a_reason(data, code):
    with pytest.raises(BadScan) as refused:
        inspect(data, **LIMITS)
    assert refused.value.code == code


def test_a_truncated_tiff_is_corrupt():
    data = encode([draw_letter(ENGLISH_BIN, dpi=60)], "TIFF")
    with pytest.raises(BadScan, match="corrupt"):
        inspect(data[: len(data) // 2], **LIMITS)


def test_an_encrypted_pdf_is_refused():
    with pytest.raises(BadScan) as refused:
        inspect(encrypted_pdf(), **LIMITS)
    assert refused.value.code == "encrypted"


def test_over_the_size_and_page_limits():
    with pytest.raises(BadScan, match="too_large"):
        inspect(b"%PDF-" + b"x" * 100, max_bytes=50, max_pages=3)
    page = draw_letter(ENGLISH_BIN, dpi=30)
    with pytest.raises(BadScan, match="too_many_pages"):
        inspect(encode([page] * 4, "TIFF"), **LIMITS)


# --- who wrote it ----------------------------------------------------------------------------


def test_fields_of_an_english_letter():
    fields = extract(ENGLISH_BIN.text(), OWN)
    assert fields.name == "Mrs Margaret Ellison"
    assert fields.address == ("14 Orchard Close", "Little Markham", "Exampleton", "EX4 7QT")
    assert fields.postcode == "EX4 7QT"
    assert fields.letter_date == date(2025, 3, 12)
    assert fields.references == ("4410 2298",)
    assert fields.subject == "Missed bin collection, account 4410 2298"
    assert fields.contact_points == (Identity("email", "m.ellison@example.org"), Identity("phone", "+447400900123"))


def test_the_councils_own_address_email_and_numbers_are_not_the_writers():
    text = ENGLISH_NO_CONTACT.text() + (
        "\n\nI rang 0300 123 4567 and wrote to customer.services@council.example but heard nothing.")
    fields = extract(text, OWN)
    assert fields.postcode == "EX2 9LD"  # not EX1 1AA, the council's, which is also on the letter
    assert fields.contact_points == ()
    assert fields.address[0] == "Flat 3, Rosebank House"


def test_fields_of_a_welsh_letter():
    fields = extract(WELSH_LIBRARY.text(), OWN)
    assert fields.name == "Mr Dafydd ap Gruffydd"
    assert fields.address == ("Bryn Awel", "5 Heol y Bont", "Llanfair", "LL55 4RT")
    assert fields.letter_date == date(2025, 3, 14)
    assert fields.subject == "adnewyddu llyfrau'r llyfrgell"


def test_an_address_at_the_foot_and_a_name_without_a_closing():
    text = ("Dear Sir,\n\nThe streetlight outside my house has been out for a month.\n\n"
            "Mrs J. Okafor\n22 Mill Lane\nExampleton EX3 4PQ\n\nRef: T-000321 and planning 24/01234/FUL")
    fields = extract(text, OWN)
    assert fields.name == "Mrs J. Okafor"
    assert fields.address == ("22 Mill Lane", "Exampleton EX3 4PQ")
    assert fields.references == ("T-000321", "24/01234/FUL")


def test_nothing_found_is_said_not_guessed():
    fields = extract("Please help with my bins.", OWN)
    assert fields.name is None and fields.address == () and fields.postcode is None
    assert fields.notes == ("no postal address found", "no sender name found")


def test_ocr_slips_in_contact_details_are_mended():
    fields = extract("Email me at jo.bloggs©example.org or jo @ example.net please", OWN)
    assert [c.value for c in fields.contact_points] == ["jo.bloggs@example.org", "jo@example.net"]


@pytest.mark.parametrize(("text", "expected"), [
    ("12th March 2025", date(2025, 3, 12)),
    ("Wednesday, 1 Jan. 2025", date(2025, 1, 1)),
    ("March 3, 2025", date(2025, 3, 3)),
    ("03/02/2025", date(2025, 2, 3)),
    ("3.2.25", date(2025, 2, 3)),
    ("14eg o Fawrth 2025", date(2025, 3, 14)),
    ("1af Ionawr 2026", date(2026, 1, 1)),
    ("31/02/2025", None),
    ("in 2025", None),
])
def test_dates_on_letters(text, expected):
    assert parse_date(text) == expected


def test_a_postal_identity_is_one_line_that_splits_back_into_envelope_lines():
    identity = postal_identity("Mr Arthur Penhaligon", ("Flat 3, Rosebank House", "27 Station Road",
                                                        "Exampleton", "ex2  9ld."))
    assert identity.value == "Mr Arthur Penhaligon, Flat 3 Rosebank House, 27 Station Road, Exampleton, EX2 9LD"
    assert envelope_lines(identity.value) == ["Mr Arthur Penhaligon", "Flat 3 Rosebank House", "27 Station Road",
                                              "Exampleton", "EX2 9LD"]
    assert find_postcode("Exampleton ex4 7qt") == "EX4 7QT" and find_postcode("SW1A 0AA") == "SW1A 0AA"
    assert find_postcode("LL55 ORT") == "LL55 0RT"  # OCR's O for a zero in the inward code


def test_a_born_digital_pdf_has_its_fields_found_from_its_text_layer():
    from triage.connectors.post.ocr import Tesseract
    from triage.connectors.post.reader import ScanReader

    scan = ScanReader(Tesseract()).read(text_pdf(ENGLISH_NO_CONTACT))
    assert [page.source for page in scan.pages] == ["text_layer"]
    fields = extract(scan.text, OWN)
    assert fields.name == "Mr Arthur Penhaligon" and fields.postcode == "EX2 9LD"


def test_another_offices_address_on_the_letter_is_not_taken_for_the_writers():
    text = ("Council Tax Section\nPO Box 77\nExampleton\nEX9 9ZZ\n\nDear Sir,\n\nPlease stop writing to my late "
            "mother at her old address, 4 Quay Street, EX7 1AB.\n\nYours faithfully,\n\nMr Owen Price\n\n"
            "Mr Owen Price\n61 Bridge Road\nExampleton\nEX6 3HT")
    fields = extract(text, OWN)
    assert fields.name == "Mr Owen Price"
    assert fields.address == ("61 Bridge Road", "Exampleton", "EX6 3HT")
