"""SMS segment counting: GSM-7 against UCS-2, escape characters, and where a message splits."""

from __future__ import annotations

import pytest

from triage.templates.sms import sms_segments


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "gsm7", 0, 0),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),                 # extension characters cost two septets
    ("€" * 81, "gsm7", 162, 2),
    ("a" * 152 + "€" + "a" * 153, "gsm7", 307, 3),  # the escape pair is never cut: it moves to segment 2
    ("Café £5 à Çà", "gsm7", 12, 1),             # accented letters in the GSM alphabet stay 7-bit
    ("ŵ" + "a" * 69, "ucs2", 70, 1),             # one Welsh circumflex makes the whole message UCS-2
    ("ŵ" + "a" * 70, "ucs2", 71, 2),
    ("ŷ" * 134, "ucs2", 134, 2),
    ("ŷ" * 135, "ucs2", 135, 3),
    ("’" + "a" * 70, "ucs2", 71, 2),             # a curly apostrophe does it too
    ("👍" * 35, "ucs2", 70, 1),                  # an emoji is a surrogate pair: two units
    ("a" + "👍" * 33 + "a" * 2, "ucs2", 69, 1),
    ("a" * 66 + "👍" + "a" * 67, "ucs2", 135, 3),  # the pair is never cut across segments
])
def test_segments_are_counted_as_a_phone_splits_them(text, encoding, units, segments):
    size = sms_segments(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_a_welsh_sentence_with_a_circumflex_costs_far_more_than_without():
    plain = "Diolch am eich neges. Byddwn yn ateb erbyn dydd Mawrth 5 Ionawr 2027. " * 2
    assert sms_segments(plain).segments == 1
    assert sms_segments(plain + "Dŵr").segments == 3
