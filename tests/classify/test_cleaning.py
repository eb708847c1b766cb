"""Quoted replies, signatures, disclaimers and device footers do not reach the classifier."""

from __future__ import annotations

from pathlib import Path

from triage.classify.cleaning import _DISCLAIMER, _DISCLAIMER_NEEDS, clean_message, repair_ocr
from triage.classify.dataset import load_samples
from triage.classify.textprep import prepare

APPLE_MAIL = """Hi,

I'm chasing this again as I still haven't received the refund of £212.56.

Thanks
Dev Patel

On 12 Feb 2026, at 09:41, Council Tax <counciltax@ashbrook.gov.uk> wrote:
> Dear Mr Patel,
> Thank you for your email. Your account is in credit and a refund will be issued.
> Kind regards
> Revenues Team"""

OUTLOOK = """I have now sent you the same letter from the hospital THREE times. Attaching it yet again.

R. Dhillon

From: Parking Services <parking@pendlebrook.gov.uk>
Sent: 02 March 2026 11:09
To: R Dhillon
Subject: RE: Re: Re: PCN AB30498127

Dear Mr Dhillon,
In order to consider your challenge please provide evidence of the circumstances you describe.
Parking Services"""

SIGNED_WITH_DISCLAIMER = """Dear Food Safety Team,

I am writing to appeal the food hygiene rating given to The Copper Kettle Cafe after the inspection.

Kind regards

Helen Marsh
Owner, The Copper Kettle Cafe
T: 01632 960 417

This email and any attachments are confidential and intended solely for the addressee. If you have
received it in error please notify the sender and delete it."""


def test_apple_mail_quote_is_cut_and_the_new_text_kept():
    cleaned = clean_message(APPLE_MAIL)
    assert "chasing this again" in cleaned.body
    assert "refund will be issued" not in cleaned.body
    assert "Revenues Team" not in cleaned.body
    assert "quoted_reply" in cleaned.removed


def test_outlook_header_block_and_everything_below_it_is_cut():
    cleaned = clean_message(OUTLOOK)
    assert "THREE times" in cleaned.body
    assert "please provide evidence" not in cleaned.body
    assert "From:" not in cleaned.body


def test_signature_and_disclaimer_leave_the_body_but_the_phone_is_still_found():
    cleaned = clean_message(SIGNED_WITH_DISCLAIMER)
    assert cleaned.body.endswith("after the inspection.")
    assert "Helen Marsh" in cleaned.signature
    assert "confidential" not in cleaned.body + cleaned.signature
    assert {"disclaimer", "signature"} <= set(cleaned.removed)
    prepared = prepare(SIGNED_WITH_DISCLAIMER, channel="email")
    assert prepared.entities["phone"] == ["01632960417"]
    assert "Copper Kettle Cafe after" in prepared.plain


def test_device_footer_and_welsh_sign_off_are_removed():
    cleaned = clean_message("Mae'r bin du heb ei gasglu ers pythefnos.\n\nDiolch\nSiân\n\nSent from my iPhone")
    assert cleaned.body == "Mae'r bin du heb ei gasglu ers pythefnos."
    assert "device_footer" in cleaned.removed


def test_a_one_line_text_is_never_emptied():
    for text in ("thanks", "Kind regards", "> bin missed"):
        assert prepare(text, channel="sms").plain.strip()


def test_scanner_digits_inside_words_are_read_as_letters_but_references_are_not():
    assert repair_ocr("Counci1 Tax bi11, te11 you, 0pen Spaces") == "Council Tax bill, tell you, open Spaces"
    assert repair_ocr("T-O01177 and 4OO23391 on the 1st and 10th") == "T-O01177 and 4OO23391 on the 1st and 10th"


def test_every_disclaimer_in_the_corpus_contains_a_string_the_cleaner_looks_for_first():
    """`_DISCLAIMER_NEEDS` only skips texts the disclaimer pattern cannot match."""
    texts = [s.text for s in load_samples(Path(__file__).resolve().parents[2] / "training_data")]
    texts += [SIGNED_WITH_DISCLAIMER, "Registered Office: 1 King Street", "Authorised and Regulated by the FCA"]
    matched = 0
    for text in texts:
        for match in _DISCLAIMER.finditer(text):
            assert any(needed in match.group(0).lower() for needed in _DISCLAIMER_NEEDS), match.group(0)
            matched += 1
    assert matched > 100
