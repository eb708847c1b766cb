"""Which reply templates exist, what each needs, and which labelled messages each answers (pure data).

The decision policy asks this catalogue whether an answer exists for a message;
the renderer asks it which values a template needs. Adding an answer is one
entry here plus its `.en.j2` and `.cy.j2` files (a test checks the files exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

LANGUAGES = ("en", "cy")
"""Every resident-facing template is written in each of these."""

REPLY_CHANNELS = ("email", "sms", "telegram", "webchat", "post")


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    needs: tuple[str, ...] = ("reference",)
    """Values the caller must give (council values are added by the renderer)."""
    resident_facing: bool = True


TEMPLATES: Mapping[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec("bin_day"),
        TemplateSpec("pay_council_tax"),
        TemplateSpec("register_to_vote"),
        TemplateSpec("report_pothole"),
        TemplateSpec("renew_library_items"),
        TemplateSpec("blue_badge"),
        TemplateSpec("planning_application"),
        TemplateSpec("pcn"),
        TemplateSpec("external_signposting"),
        TemplateSpec("acknowledgement", ("reference", "respond_by", "needs_interpretation")),
        TemplateSpec("urgent_help"),
        TemplateSpec("holding_reply", ("reference", "promised_by")),
        TemplateSpec("passed_to_service", ("reference", "service_name", "respond_by")),
        TemplateSpec("duty_alert", ("reference", "channel", "received", "service", "reasons", "text",
                                    "resident_told"), resident_facing=False),
    )
}

ACKNOWLEDGEMENT = "acknowledgement"
URGENT_HELP = "urgent_help"
DUTY_ALERT = "duty_alert"


@dataclass(frozen=True)
class Answer:
    """A template that answers a (service, contact type) completely, for the avoidable reasons listed.

    The reasons matter: "when is my bin day?" is answered by the bin-day page, but
    "my bin was missed again" (`service_failure`) or "what happened to my report?"
    (`progress_chasing`) is not, though all three are waste-service messages.
    """

    template: str
    reasons: tuple[str, ...] = ("none", "self_service_available")


_ONLINE_ONLY = ("self_service_available",)
"""Paying is answered only when nothing suggests trouble paying (arrears and failed debits say `none`)."""
_EXTERNAL = Answer("external_signposting", ("misdirected", "none", "self_service_available"))

ANSWERS: Mapping[tuple[str, str], Answer] = MappingProxyType({
    ("waste_recycling", "request_information"): Answer("bin_day"),
    ("council_tax", "payment"): Answer("pay_council_tax", _ONLINE_ONLY),
    ("electoral_registration", "apply"): Answer("register_to_vote"),
    ("electoral_registration", "request_information"): Answer("register_to_vote", _ONLINE_ONLY),
    ("highways", "report_issue"): Answer("report_pothole"),
    ("libraries", "request_service"): Answer("renew_library_items"),
    ("assisted_travel", "apply"): Answer("blue_badge"),
    ("planning", "request_information"): Answer("planning_application"),
    ("parking", "payment"): Answer("pcn", _ONLINE_ONLY),
    **{("external", contact_type): _EXTERNAL
       for contact_type in ("request_information", "request_service", "report_issue", "report_change", "apply",
                            "payment", "booking")},
})
"""(service, contact_type) -> the answer; anything not here is queued for a person."""

SERVICE_TEAMS: Mapping[str, Mapping[str, str]] = {
    "council_tax": {"en": "Council Tax", "cy": "Treth Gyngor"},
    "benefits": {"en": "benefits", "cy": "budd-daliadau"},
    "waste_recycling": {"en": "waste and recycling", "cy": "gwastraff ac ailgylchu"},
    "street_scene": {"en": "street cleansing", "cy": "glanhau strydoedd"},
    "highways": {"en": "highways", "cy": "priffyrdd"},
    "parking": {"en": "parking", "cy": "parcio"},
    "planning": {"en": "planning", "cy": "cynllunio"},
    "building_control": {"en": "building control", "cy": "rheoli adeiladu"},
    "housing": {"en": "housing", "cy": "tai"},
    "environmental_health": {"en": "environmental health", "cy": "iechyd yr amgylchedd"},
    "licensing": {"en": "licensing", "cy": "trwyddedu"},
    "registrars": {"en": "registration", "cy": "cofrestru"},
    "electoral_registration": {"en": "electoral services", "cy": "gwasanaethau etholiadol"},
    "libraries": {"en": "library", "cy": "llyfrgelloedd"},
    "adult_social_care": {"en": "adult social care", "cy": "gofal cymdeithasol i oedolion"},
    "childrens_services": {"en": "children's services", "cy": "gwasanaethau plant"},
    "school_admissions": {"en": "school admissions", "cy": "derbyn i ysgolion"},
    "assisted_travel": {"en": "assisted travel", "cy": "teithio gyda chymorth"},
    "parks_leisure": {"en": "parks and leisure", "cy": "parciau a hamdden"},
    "governance": {"en": "democratic services", "cy": "gwasanaethau democrataidd"},
    "general": {"en": "customer services", "cy": "gwasanaethau cwsmeriaid"},
}
"""What residents call the team behind each service, for "we have passed this to our ... team"."""


def answer_for(service: str, contact_type: str, avoidable_reason: str, language: str,
               answers: Mapping[tuple[str, str], Answer] = ANSWERS) -> str | None:
    """The answer template for these labels in this language, or None when a person must reply."""
    answer = answers.get((service, contact_type))
    if answer is None or avoidable_reason not in answer.reasons or language not in LANGUAGES:
        return None
    return answer.template
