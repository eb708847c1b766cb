"""Every reply renders on every channel in English and Welsh, with the council's own values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from triage.config import ConfigError
from triage.council import DEFAULT_FILE, load_council
from triage.deadlines import compute_deadlines
from triage.templates.catalogue import ANSWERS, LANGUAGES, REPLY_CHANNELS, TEMPLATES
from triage.templates.render import (
    TEMPLATE_DIR,
    RenderError,
    check_templates,
    longest_values,
    render_letter,
    render_reply,
)
from triage.templates.sms import sms_segments

COUNCIL = load_council()
TODAY = date(2026, 11, 24)
RESIDENT_FACING = [name for name, spec in TEMPLATES.items() if spec.resident_facing]


def values_for(name: str, language: str = "en") -> dict:
    sample = {"reference": "T-000123", "respond_by": date(2027, 1, 5), "promised_by": date(2027, 1, 12),
              "needs_interpretation": False, "service_name": "waste and recycling" if language == "en"
              else "gwastraff ac ailgylchu"}
    return {key: sample[key] for key in TEMPLATES[name].needs}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", REPLY_CHANNELS)
@pytest.mark.parametrize("name", RESIDENT_FACING)
def test_every_template_renders_on_every_channel_in_every_language(name, channel, language):
    rendered = render_reply(name, channel, language, values_for(name, language), COUNCIL, TODAY)

    assert "T-000123" in rendered.text, "the resident can always quote their reference"
    assert "None" not in rendered.text and "{{" not in rendered.text
    if channel == "sms":
        assert sms_segments(rendered.text).segments <= 2
        assert "\n" not in rendered.text
    if channel == "email":
        assert "[Ref: T-000123]" in rendered.subject or "[Cyf: T-000123]" in rendered.subject
        assert f'<html lang="{language}">' in rendered.html
        assert COUNCIL.details["name" if language == "en" else "name_cy"] in rendered.text
    if channel == "post":
        assert rendered.letter.paragraphs and rendered.letter.reference == "T-000123"
        assert rendered.letter.return_address[-1] == "EX1 1AA"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", RESIDENT_FACING)
def test_sms_fits_two_segments_even_with_the_longest_values(name, language):
    rendered = render_reply(name, "sms", language, longest_values(language), COUNCIL, TODAY)
    assert sms_segments(rendered.text).segments <= 2


def test_welsh_replies_are_in_welsh_and_english_in_english():
    welsh = render_reply("acknowledgement", "email", "cy", values_for("acknowledgement"), COUNCIL, TODAY)
    english = render_reply("acknowledgement", "email", "en", values_for("acknowledgement"), COUNCIL, TODAY)
    assert "Diolch am eich neges" in welsh.text and "Cyngor Bwrdeistref Enghraifft" in welsh.text
    assert "Thank you for your message" in english.text and "Example Borough Council" in english.text


@pytest.mark.parametrize(("received", "en_words", "cy_words"), [
    ("2026-12-24T16:00:00+00:00", "Tuesday 5 January 2027", "dydd Mawrth 5 Ionawr 2027"),
    ("2027-03-25T23:30:00+00:00", "Monday 5 April 2027", "dydd Llun 5 Ebrill 2027"),  # Good Friday, Easter Monday
    ("2026-08-27T09:00:00+01:00", "Friday 4 September 2026", "dydd Gwener 4 Medi 2026"),  # August bank holiday
])
def test_the_acknowledgement_gives_the_deadline_calculators_date_in_words(received, en_words, cy_words):
    respond_by = compute_deadlines(datetime.fromisoformat(received)).respond_by
    values = {"reference": "T-000123", "respond_by": respond_by, "needs_interpretation": False}

    for channel in REPLY_CHANNELS:
        assert f"by {en_words}" in render_reply("acknowledgement", channel, "en", values, COUNCIL, TODAY).text
        assert f"erbyn {cy_words}" in render_reply("acknowledgement", channel, "cy", values, COUNCIL, TODAY).text


def test_an_acknowledgement_for_another_language_promises_translation():
    values = {**values_for("acknowledgement"), "needs_interpretation": True}
    text = render_reply("acknowledgement", "email", "en", values, COUNCIL, TODAY).text
    assert "translated" in text


def test_a_missing_value_is_refused_by_name():
    with pytest.raises(RenderError, match="respond_by"):
        render_reply("acknowledgement", "email", "en", {"reference": "T-000001", "needs_interpretation": False},
                     COUNCIL, TODAY)


def test_unknown_templates_channels_and_languages_are_refused():
    with pytest.raises(RenderError):
        render_reply("bin_days_typo", "email", "en", {"reference": "T-1"}, COUNCIL, TODAY)
    with pytest.raises(RenderError):
        render_reply("bin_day", "fax", "en", {"reference": "T-1"}, COUNCIL, TODAY)
    with pytest.raises(RenderError):
        render_reply("bin_day", "email", "fr", {"reference": "T-1"}, COUNCIL, TODAY)
    with pytest.raises(RenderError, match="not written in 'cy'"):
        render_reply("duty_alert", "email", "cy", {}, COUNCIL, TODAY)


def test_the_duty_alert_tells_staff_what_they_need_to_act():
    values = {"reference": "T-000042", "channel": "sms", "received": "Tuesday 24 November 2026 at 21:04",
              "service": "housing", "reasons": "no_safe_place_tonight", "text": "we have nowhere to sleep tonight",
              "resident_told": False}
    alert = render_reply("duty_alert", "email", "en", values, COUNCIL, TODAY)
    assert alert.subject.startswith("URGENT T-000042")
    assert "nowhere to sleep tonight" in alert.text and "NOT been sent anything" in alert.text


def test_templates_hold_no_council_values_of_their_own():
    for path in TEMPLATE_DIR.glob("*.j2"):
        wording = re.sub(r"style=\"[^\"]*\"", "", path.read_text(encoding="utf-8"))
        assert not re.search(r"https?:|www\.|\d{3,}", wording), f"{path.name} hard-codes a URL or number"
        assert "Example" not in wording and "Enghraifft" not in wording


def test_council_values_come_from_the_council_file(tmp_path):
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    text = text.replace("Example Borough Council", "Llanfair & Bay <Council>").replace("0300 123 4567", "01234 567890")
    text = text.replace('bin_days = "https://www.council.example/bins"',
                        'bin_days = "https://bay.example/bins"\nbin_days_cy = "https://bay.example/cy/biniau"')
    own = tmp_path / "council.toml"
    own.write_text(text, encoding="utf-8")
    council = load_council(own)

    english = render_reply("bin_day", "email", "en", {"reference": "T-000001"}, council, TODAY)
    welsh = render_reply("bin_day", "email", "cy", {"reference": "T-000001"}, council, TODAY)
    assert "Llanfair & Bay <Council>" in english.text and "01234 567890" in english.text
    assert "https://bay.example/bins" in english.text and "https://bay.example/cy/biniau" in welsh.text
    assert "Llanfair &amp; Bay &lt;Council&gt;" in english.html, "HTML is escaped"
    assert '<a href="https://bay.example/bins">https://bay.example/bins</a>' in english.html


def test_a_council_file_that_would_overflow_an_sms_is_refused_at_start_up(tmp_path):
    long_url = "https://www.a-council-with-a-long-domain-name.example/services/waste/" + "bins/" * 30
    own = tmp_path / "council.toml"
    own.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace(
        '"https://www.council.example/bins"', f'"{long_url}"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="SMS form of 'bin_day'"):
        check_templates(load_council(own))


def test_a_council_file_missing_a_value_is_refused_at_start_up(tmp_path):
    own = tmp_path / "council.toml"
    own.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace('pcn_pay = ', 'pcn_payment = '),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="pcn_pay"):
        check_templates(load_council(own))
    check_templates(COUNCIL)


def test_a_letter_is_blocks_for_the_post_connector():
    letter = render_letter("acknowledgement", "cy", values_for("acknowledgement"), COUNCIL, date(2026, 11, 24))
    assert letter.date == "dydd Mawrth 24 Tachwedd 2026"
    assert letter.salutation == "Annwyl breswylydd,"
    assert letter.closing == "Yn gywir,"
    assert letter.signature == ("Gwasanaethau Cwsmeriaid", "Cyngor Bwrdeistref Enghraifft")
    assert any("erbyn dydd Mawrth 5 Ionawr 2027" in p for p in letter.paragraphs)
    assert letter.as_dict()["reference"] == "T-000123"


def test_a_named_resident_is_greeted_by_name_and_signed_off_sincerely():
    named = {**values_for("acknowledgement"), "resident_name": "Mrs D. Pearce"}
    letter = render_letter("acknowledgement", "en", named, COUNCIL, TODAY)
    assert (letter.salutation, letter.closing) == ("Dear Mrs D. Pearce,", "Yours sincerely,")
    email = render_reply("acknowledgement", "email", "cy", named, COUNCIL, TODAY)
    assert email.text.startswith("Helo Mrs D. Pearce,")
    plain = render_letter("acknowledgement", "en", values_for("acknowledgement"), COUNCIL, TODAY)
    assert (plain.salutation, plain.closing) == ("Dear resident,", "Yours faithfully,")


def test_every_template_is_written_in_every_language_it_needs():
    for name, spec in TEMPLATES.items():
        for language in LANGUAGES if spec.resident_facing else ("en",):
            assert (TEMPLATE_DIR / f"{name}.{language}.j2").exists(), f"{name}.{language}.j2 is missing"
    assert {answer.template for answer in ANSWERS.values()} <= set(TEMPLATES)
    on_disk = {Path(p).name.split(".")[0] for p in TEMPLATE_DIR.glob("*.j2")}
    assert on_disk - set(TEMPLATES) == {"_frame", "_parts", "email"}


def test_the_answers_cover_the_common_online_routes():
    answered = {answer.template for answer in ANSWERS.values()}
    assert {"bin_day", "pay_council_tax", "register_to_vote", "report_pothole", "renew_library_items", "blue_badge",
            "planning_application", "pcn", "external_signposting"} <= answered


def test_an_urgent_reply_tells_the_resident_how_to_get_help_now():
    text = render_reply("urgent_help", "sms", "en", {"reference": "T-000009"}, COUNCIL, TODAY).text
    assert "999" in text and "0300 123 4999" in text and "0300 123 4002" in text and "0300 123 4001" in text
    welsh = render_reply("urgent_help", "telegram", "cy", {"reference": "T-000009"}, COUNCIL, TODAY).text
    assert "ffoniwch 999" in welsh and "0300 123 4999" in welsh


def test_dates_in_words():
    from triage.templates.dates import date_in_words

    assert date_in_words(date(2027, 1, 5), "en") == "Tuesday 5 January 2027"
    assert date_in_words(date(2026, 12, 31), "cy") == "dydd Iau 31 Rhagfyr 2026"
    assert date_in_words(datetime(2026, 6, 1, tzinfo=UTC).date(), "cy") == "dydd Llun 1 Mehefin 2026"
