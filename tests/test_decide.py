"""The automatic-reply policy, rule by rule: each row changes one thing and shows the decision flip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.decide import (
    DEFAULT_THRESHOLDS,
    HEADS,
    Labels,
    Policy,
    Situation,
    action_for_labels,
    choose_thresholds,
    decide,
    resolve_thresholds,
    unreachable_sender,
)
from triage.templates.catalogue import ANSWERS, Answer

SURE = {head: 0.99 for head in HEADS}
BIN_DAY_QUESTION = Labels("waste_recycling", "request_information", "self_service_available", False, "en", SURE)
BY_EMAIL = Situation(channel="email", recipient="resident@example.org")


def test_a_confident_bin_day_question_is_answered_and_closed():
    decision = decide(BIN_DAY_QUESTION, BY_EMAIL)
    assert (decision.action, decision.template, decision.language) == ("auto_reply", "bin_day", "en")
    assert decision.sends_reply and not decision.alert_duty and decision.reasons == ()


def less_sure(head: str) -> Labels:
    return replace(BIN_DAY_QUESTION, confidence={**SURE, head: DEFAULT_THRESHOLDS[head] - 0.01})


@pytest.mark.parametrize(("labels", "reason"), [
    (replace(BIN_DAY_QUESTION, service="housing", contact_type="report_issue"), "no_template"),
    (replace(BIN_DAY_QUESTION, avoidable_reason="progress_chasing"), "no_template"),
    (replace(BIN_DAY_QUESTION, avoidable_reason="service_failure"), "no_template"),
    *[(less_sure(head), f"low_confidence:{head}") for head in HEADS],
    (replace(BIN_DAY_QUESTION, confidence={h: p for h, p in SURE.items() if h != "language"}),
     "low_confidence:language"),
], ids=["no template", "chasing", "service failure", *[f"unsure {h}" for h in HEADS], "head missing"])
def test_each_rule_on_the_labels_sends_the_message_to_a_person_with_an_acknowledgement(labels, reason):
    decision = decide(labels, BY_EMAIL)
    assert (decision.action, decision.template) == ("queue", "acknowledgement")
    assert decision.reasons == (reason,)
    assert decision.sends_reply


@pytest.mark.parametrize("contact_type", ["complaint", "appeal_objection", "information_rights"])
def test_complaints_appeals_and_information_rights_always_need_a_person(contact_type):
    labels = replace(BIN_DAY_QUESTION, contact_type=contact_type)
    answers_everything = Policy(answers={**ANSWERS, ("waste_recycling", contact_type): Answer("bin_day")})
    assert decide(replace(BIN_DAY_QUESTION, contact_type="request_information"), BY_EMAIL,
                  answers_everything).action == "auto_reply"

    decision = decide(labels, BY_EMAIL, answers_everything)
    assert decision.action == "queue"
    assert decision.reasons == (f"needs_person:{contact_type}",)


def test_a_message_joining_an_open_case_is_not_closed_by_an_automatic_answer():
    decision = decide(BIN_DAY_QUESTION, replace(BY_EMAIL, joined_open_case=True))
    assert (decision.action, decision.template, decision.reasons) == ("queue", "acknowledgement", ("open_case",))


def test_a_letter_with_a_page_too_faint_to_read_is_acknowledged_not_answered():
    decision = decide(BIN_DAY_QUESTION, replace(BY_EMAIL, needs_reading=True))
    assert (decision.action, decision.template, decision.reasons) == ("queue", "acknowledgement", ("needs_reading",))


def test_urgent_gets_help_now_and_alerts_the_duty_team():
    decision = decide(replace(BIN_DAY_QUESTION, urgent=True), BY_EMAIL)
    assert (decision.action, decision.template) == ("queue", "urgent_help")
    assert decision.urgent and decision.alert_duty and decision.sends_reply
    assert "urgent" in decision.reasons


def test_welsh_is_answered_in_welsh():
    decision = decide(replace(BIN_DAY_QUESTION, language="cy"), BY_EMAIL)
    assert (decision.action, decision.template, decision.language) == ("auto_reply", "bin_day", "cy")
    queued = decide(replace(BIN_DAY_QUESTION, language="cy", avoidable_reason="progress_chasing"), BY_EMAIL)
    assert (queued.template, queued.language) == ("acknowledgement", "cy")


def test_other_languages_are_queued_for_interpretation_with_an_english_acknowledgement():
    decision = decide(replace(BIN_DAY_QUESTION, language="other"), BY_EMAIL)
    assert (decision.action, decision.template, decision.language) == ("queue", "acknowledgement", "en")
    assert decision.needs_interpretation
    assert decision.reasons == ("language:other",)


def test_without_a_classifier_everything_is_queued_and_acknowledged():
    decision = decide(None, BY_EMAIL)
    assert (decision.action, decision.template, decision.reasons) == ("queue", "acknowledgement", ("no_classifier",))
    assert decision.sends_reply


@pytest.mark.parametrize(("situation", "why"), [
    (replace(BY_EMAIL, robot="Auto-Submitted: auto-replied"), "automatic mail: Auto-Submitted: auto-replied"),
    (replace(BY_EMAIL, recipient="no-reply@bank.example"), "no-reply address (no-reply)"),
    (Situation(channel="sms", recipient="+447700900123", opted_out=True), "opted out of automatic messages"),
    (replace(BY_EMAIL, replies_last_hour=3), "rate limit: 3 automatic replies in the last hour"),
], ids=["robot", "no-reply", "opted out", "rate limit"])
def test_suppression_stops_every_automatic_message_and_queues_for_a_person(situation, why):
    decision = decide(BIN_DAY_QUESTION, situation)
    assert decision.action == "queue"
    assert decision.suppressed == why
    assert not decision.sends_reply

    urgent = decide(replace(BIN_DAY_QUESTION, urgent=True), situation)
    assert not urgent.sends_reply
    assert urgent.alert_duty, "the duty team hears about it even when the resident cannot be told"


def test_the_rate_limit_counts_up_to_the_configured_number():
    assert decide(BIN_DAY_QUESTION, replace(BY_EMAIL, replies_last_hour=2)).sends_reply
    assert not decide(BIN_DAY_QUESTION, replace(BY_EMAIL, replies_last_hour=2), Policy(replies_per_hour=2)).sends_reply
    assert decide(BIN_DAY_QUESTION, replace(BY_EMAIL, replies_last_hour=4), Policy(replies_per_hour=5)).sends_reply


@pytest.mark.parametrize("address", [
    "noreply@council-supplier.example", "no-reply@bank.example", "No_Reply@x.example", "donotreply@x.example",
    "do-not-reply@x.example", "MAILER-DAEMON@mx.example", "postmaster@x.example", "bounces+123-abc@list.example",
    "noreply-alerts@x.example",
])
def test_no_reply_addresses_never_get_an_automatic_reply(address):
    assert unreachable_sender("email", address) is not None


@pytest.mark.parametrize("address", ["noreen@example.org", "reply@example.org", "replies.to.me@example.org",
                                     "postmistress@example.org"])
def test_ordinary_addresses_are_answered(address):
    assert unreachable_sender("email", address) is None


def test_sms_senders_that_are_not_phone_numbers_cannot_be_answered():
    assert unreachable_sender("sms", "AMAZON") is not None
    assert unreachable_sender("sms", "+447700900123") is None


def test_thresholds_layer_defaults_then_model_card_then_settings():
    thresholds = resolve_thresholds({"service": 0.8, "contact_type": 0.7, "not_a_head": 0.1}, {"service": 0.97})
    assert thresholds == {**DEFAULT_THRESHOLDS, "service": 0.97, "contact_type": 0.7}
    assert resolve_thresholds(None, {}) == dict(DEFAULT_THRESHOLDS)


def test_action_for_labels_needs_no_database():
    assert action_for_labels("parking", "payment", "self_service_available", False, "en", SURE) == "auto_reply"
    assert action_for_labels("parking", "payment", "none", False, "en", SURE) == "queue"
    unsure = {**SURE, "service": 0.6}
    assert action_for_labels("parking", "payment", "self_service_available", False, "en", unsure) == "queue"
    assert action_for_labels("parking", "payment", "self_service_available", False, "en", unsure,
                             thresholds={"service": 0.5}) == "auto_reply"


def test_thresholds_are_chosen_for_the_most_answers_at_the_target_precision():
    bin_day = replace(BIN_DAY_QUESTION, confidence={**SURE, "service": 0.92})
    missed_bin = replace(BIN_DAY_QUESTION, avoidable_reason="service_failure")
    mistaken = replace(BIN_DAY_QUESTION, confidence={**SURE, "service": 0.71})
    pairs = [(bin_day, BIN_DAY_QUESTION)] * 30 + [(mistaken, missed_bin)] * 2

    thresholds = choose_thresholds(pairs)
    assert 0.71 < thresholds["service"] <= 0.92
    assert thresholds["urgent"] == DEFAULT_THRESHOLDS["urgent"]
    assert choose_thresholds(pairs[:10]) is None, "ten answers are too few to trust"
    assert choose_thresholds([(mistaken, missed_bin)] * 40) is None
