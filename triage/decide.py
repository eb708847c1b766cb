"""The automatic-reply policy: answer and close, or queue for a person (pure: no I/O, no clock).

Residents see what this decides, so it must be right more than it must be
frequent. A message is answered automatically only when every rule holds: an
answer template exists for its service and contact type in its language, every
classifier head is confident enough, it is not urgent, it is not a complaint,
appeal or information-rights request, and it did not join a case that is
already open. Everything else goes to a person and the resident gets an
acknowledgement (or, when urgent, how to get help now). Automatic messages are
suppressed altogether for robots, opted-out numbers and senders who already got
several in the last hour, so two auto-responders can never loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product
from types import MappingProxyType
from typing import Literal

from triage.templates.catalogue import ACKNOWLEDGEMENT, ANSWERS, LANGUAGES, URGENT_HELP, Answer, answer_for

HEADS = ("service", "contact_type", "avoidable_reason", "urgent", "language")

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType({
    "service": 0.90,
    "contact_type": 0.90,
    "avoidable_reason": 0.85,
    "urgent": 0.95,
    "language": 0.90,
})
"""Conservative per-head floors, used for any head the model card and settings leave out."""

NEVER_AUTOMATIC = ("complaint", "appeal_objection", "information_rights")
"""Contact types that always need a person: statutory processes and deadlines hang on them."""

DEFAULT_REPLIES_PER_HOUR = 3

_NO_REPLY_LOCAL_PART = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)(?:[-_.+].*)?$", re.I)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Labels:
    """What the classifier said about one message."""

    service: str
    contact_type: str
    avoidable_reason: str
    urgent: bool
    language: str
    confidence: Mapping[str, float]
    """Probability of the predicted label, per head (see HEADS)."""


@dataclass(frozen=True)
class Situation:
    """What the store knows around the message, gathered by the triage job."""

    channel: str
    """The channel the reply would go out on."""
    recipient: str
    """Where it would go: email address, phone number, chat id, postal address."""
    joined_open_case: bool = False
    """The message was attached to a case that already exists (same service, or a quoted reference)."""
    opted_out: bool = False
    replies_last_hour: int = 0
    """Automatic replies this recipient was sent in the last hour."""
    robot: str | None = None
    """Why the connector thinks a robot sent it (`suppress_auto_reply` in the message meta)."""
    needs_reading: bool = False
    """Part of the message could not be read reliably (an OCR page below the confidence floor)."""


@dataclass(frozen=True)
class Policy:
    thresholds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    replies_per_hour: int = DEFAULT_REPLIES_PER_HOUR
    answers: Mapping[tuple[str, str], Answer] = field(default_factory=lambda: ANSWERS)


@dataclass(frozen=True)
class Decision:
    action: Literal["auto_reply", "queue"]
    template: str
    """What the resident gets: an answer, the acknowledgement or the urgent-help message."""
    language: str
    """The reply's language: Welsh for Welsh, English otherwise."""
    urgent: bool = False
    needs_interpretation: bool = False
    alert_duty: bool = False
    reasons: tuple[str, ...] = ()
    """Why it was queued, as short codes such as `low_confidence:service`."""
    suppressed: str | None = None
    """Why nothing automatic may be sent, if so; the template is then recorded but not sent."""

    @property
    def sends_reply(self) -> bool:
        return self.suppressed is None


def resolve_thresholds(*layers: Mapping[str, float] | None) -> dict[str, float]:
    """Conservative defaults, overlaid in order (model card, then settings) for the heads each names."""
    thresholds = dict(DEFAULT_THRESHOLDS)
    for layer in layers:
        thresholds.update({head: float(value) for head, value in (layer or {}).items() if head in HEADS})
    return thresholds


def unreachable_sender(channel: str, recipient: str) -> str | None:
    """Why this address cannot take an automatic reply (a no-reply mailbox, an SMS sender id), else None."""
    if "@" in recipient:
        local = recipient.rsplit("@", 1)[0].strip().strip("<\"'")
        if _NO_REPLY_LOCAL_PART.match(local):
            return f"no-reply address ({local})"
    if channel == "sms" and not _E164.match(recipient):
        return "SMS sender is not a phone number that takes replies"
    return None


def suppression(situation: Situation, policy: Policy) -> str | None:
    """Why nothing automatic may go to this sender, else None."""
    if situation.robot:
        return f"automatic mail: {situation.robot}"
    unreachable = unreachable_sender(situation.channel, situation.recipient)
    if unreachable:
        return unreachable
    if situation.opted_out:
        return "opted out of automatic messages"
    if situation.replies_last_hour >= policy.replies_per_hour:
        return f"rate limit: {situation.replies_last_hour} automatic replies in the last hour"
    return None


def queue_reasons(labels: Labels | None, situation: Situation, policy: Policy) -> list[str]:
    """Every rule that keeps this message from an automatic answer; empty means answer it."""
    if labels is None:
        return ["no_classifier"]
    reasons = []
    if labels.urgent:
        reasons.append("urgent")
    if labels.contact_type in NEVER_AUTOMATIC:
        reasons.append(f"needs_person:{labels.contact_type}")
    if labels.language not in LANGUAGES:
        reasons.append(f"language:{labels.language}")
    elif answer_for(labels.service, labels.contact_type, labels.avoidable_reason, labels.language,
                    policy.answers) is None:
        reasons.append("no_template")
    for head, floor in policy.thresholds.items():
        if labels.confidence.get(head, 0.0) < floor:
            reasons.append(f"low_confidence:{head}")
    if situation.joined_open_case:
        reasons.append("open_case")
    if situation.needs_reading:
        reasons.append("needs_reading")
    return reasons


def decide(labels: Labels | None, situation: Situation, policy: Policy = Policy()) -> Decision:
    """The policy itself; `labels` is None when no classifier model is installed."""
    reasons = queue_reasons(labels, situation, policy)
    suppressed = suppression(situation, policy)
    urgent = labels is not None and labels.urgent
    language = "cy" if labels is not None and labels.language == "cy" else "en"
    needs_interpretation = labels is not None and labels.language not in LANGUAGES
    answer = None if labels is None else answer_for(labels.service, labels.contact_type, labels.avoidable_reason,
                                                    labels.language, policy.answers)
    if answer is not None and not reasons and suppressed is None:
        return Decision("auto_reply", answer, language)
    return Decision("queue", URGENT_HELP if urgent else ACKNOWLEDGEMENT, language, urgent=urgent,
                    needs_interpretation=needs_interpretation, alert_duty=urgent,
                    reasons=tuple(reasons or ["suppressed"]), suppressed=suppressed)


def action_for_labels(service: str, contact_type: str, avoidable_reason: str, urgent: bool, language: str,
                      confidence: Mapping[str, float],
                      thresholds: Mapping[str, float] | None = None) -> Literal["auto_reply", "queue"]:
    """The policy on labels alone (no customer history, no sender), for `triage classify`."""
    labels = Labels(service, contact_type, avoidable_reason, urgent, language, confidence)
    policy = Policy(thresholds=resolve_thresholds(thresholds))
    return decide(labels, Situation(channel="", recipient=""), policy).action


TUNED_HEADS = ("service", "contact_type", "avoidable_reason")
"""The heads `choose_thresholds` tunes; urgent and language keep their conservative floors."""


def choose_thresholds(pairs: Iterable[tuple[Labels, Labels]], *, target: float = 0.98, min_replies: int = 20,
                      grid: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10)),
                      ) -> dict[str, float] | None:
    """Per-head thresholds that answer the most held-out messages at `target` precision, for the model card.

    `pairs` are (predicted, true) labels of held-out samples. An automatic reply
    counts as right when the true labels would have sent the same answer. None
    when no thresholds reach the target on at least `min_replies` replies (too
    few to trust): keep the conservative defaults then.
    """
    no_floors = Policy(thresholds={})
    nobody = Situation(channel="", recipient="")
    candidates = []
    for predicted, truth in pairs:
        sent = decide(predicted, nobody, no_floors)
        if sent.action == "auto_reply":
            wanted = decide(truth, nobody, no_floors)
            right = wanted.action == "auto_reply" and wanted.template == sent.template
            candidates.append((predicted.confidence, right))
    best: tuple[tuple[int, float], dict[str, float]] | None = None
    for floors in product(grid, repeat=len(TUNED_HEADS)):
        thresholds = {**DEFAULT_THRESHOLDS, **dict(zip(TUNED_HEADS, floors, strict=True))}
        answered = [right for confidence, right in candidates
                    if all(confidence.get(head, 0.0) >= floor for head, floor in thresholds.items())]
        if len(answered) >= min_replies and sum(answered) >= target * len(answered):
            rank = (len(answered), sum(floors))
            if best is None or rank > best[0]:
                best = (rank, thresholds)
    return best[1] if best else None
