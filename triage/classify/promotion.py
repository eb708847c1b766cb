"""The promotion gate: a candidate model replaces the current one only if it is no worse where it matters.

Both models are scored on the same held-out samples at promotion time, so a gate
decision never compares figures measured on different data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GATED = ("service_macro_f1", "contact_type_macro_f1", "avoidable_reason_macro_f1", "urgent_precision",
         "language_accuracy")
"""Figures that may drop by at most the tolerance; urgent recall may not drop at all."""
DEFAULT_TOLERANCE = 0.01


@dataclass(frozen=True)
class GateResult:
    candidate: dict[str, float]
    current: dict[str, float]
    refusals: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.refusals


def gate(candidate: dict[str, float], current: dict[str, float], tolerance: float = DEFAULT_TOLERANCE) -> GateResult:
    refusals = [f"{name} {candidate[name]:.4f} is below the current {current[name]:.4f} by more than {tolerance}"
                for name in GATED if candidate[name] < current[name] - tolerance]
    if candidate["urgent_recall"] < current["urgent_recall"]:
        refusals.append(f"urgent_recall {candidate['urgent_recall']:.4f} is below the current "
                        f"{current['urgent_recall']:.4f} (no tolerance for missing urgent messages)")
    return GateResult(candidate, current, refusals)
