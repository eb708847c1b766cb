"""What the classifier tells the rest of the system: the narrow interface of `classify/`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Prediction:
    service: str
    contact_type: str
    avoidable_reason: str
    urgent: bool
    language: str
    """`en`, `cy` or `other`."""
    confidence: Mapping[str, float]
    """Calibrated probability per head: service, contact_type, avoidable_reason, urgent, language."""
    service_top3: tuple[tuple[str, float], ...] = ()
    entities: Mapping[str, list] = field(default_factory=dict)
    """Structured fields found in the text: postcodes, phones, emails, money, dates, references."""
    urgent_reasons: tuple[str, ...] = ()
    """Why the urgent head fired (lexicon rules matched, or the model), for the person who reads it."""
    model_version: str = ""


class Classifier(Protocol):
    version: str

    def predict(self, text: str, *, channel: str, subject: str | None = None) -> Prediction: ...

    def warm_up(self) -> None:
        """Build whatever is built lazily, before a worker forks its jobs."""
