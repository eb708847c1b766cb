"""Quality figures of a model on labelled samples: read by `triage evaluate`, the model card and the gate."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from triage.classify.dataset import Sample
from triage.classify.taxonomy import LABEL_HEADS, ids

CALIBRATION_BINS = 10


def calibration(confidence: Sequence[float], correct: Sequence[bool]) -> dict:
    """Expected calibration error over equal-width bins, and each bin's mean confidence against its accuracy."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    bins, ece = [], 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high) if low > 0 else (confidence <= high)
        if inside.any():
            gap = abs(confidence[inside].mean() - correct[inside].mean())
            ece += gap * inside.mean()
            bins.append({"range": [round(float(low), 1), round(float(high), 1)], "n": int(inside.sum()),
                         "confidence": round(float(confidence[inside].mean()), 4),
                         "accuracy": round(float(correct[inside].mean()), 4)})
    return {"ece": round(float(ece), 4), "bins": bins}


def label_report(truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float],
                 labels: Sequence[str]) -> dict:
    present = [label for label in labels if label in set(truth) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=present,
                                                                     zero_division=0)
    return {
        "macro_f1": round(float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "support": int(s)}
                      for label, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)},
        "confusion": {"labels": present,
                      "matrix": confusion_matrix(truth, predicted, labels=present).tolist()},
        "calibration": calibration(confidence, [t == p for t, p in zip(truth, predicted, strict=True)]),
    }


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> list[float]:
    """95% Wilson score interval of a proportion. On 592 urgent messages one miss moves recall by 0.0017, so a
    recall read against its target needs the range the sample alone allows (Wilson stays inside [0, 1] and is
    sound near 1, where the normal approximation is not)."""
    if not trials:
        return [0.0, 1.0]
    share, spread = successes / trials, z * z / trials
    centre = (share + spread / 2) / (1 + spread)
    half = z * np.sqrt(share * (1 - share) / trials + spread / (4 * trials)) / (1 + spread)
    return [round(float(centre - half), 4), round(float(centre + half), 4)]


def urgent_report(truth: Sequence[bool], predicted: Sequence[bool], probability: Sequence[float]) -> dict:
    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    tp, fp = int((truth & predicted).sum()), int((~truth & predicted).sum())
    fn, tn = int((truth & ~predicted).sum()), int((~truth & ~predicted).sum())
    recall = tp / (tp + fn) if tp + fn else 1.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    probability = np.asarray(probability, dtype=float)
    return {"recall": round(recall, 4), "precision": round(precision, 4),
            "recall_interval": wilson_interval(tp, tp + fn), "precision_interval": wilson_interval(tp, tp + fp),
            "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            "calibration": {"brier": round(float(np.mean((probability - truth) ** 2)), 4),
                            **calibration(np.maximum(probability, 1 - probability),
                                          (probability >= 0.5) == truth)}}


def evaluate(model, samples: Sequence[Sample], progress: Callable[[str], None] = lambda _: None,
             batch_size: int = 256) -> dict:
    """Per-head report of `model` on `samples` (normally the held-out split)."""
    from triage.classify.model import Message

    predictions = []
    for start in range(0, len(samples), batch_size):
        batch = samples[start:start + batch_size]
        predictions += model.predict_many([Message(s.text, s.channel, s.subject) for s in batch])
        progress(f"evaluated {min(start + batch_size, len(samples))}/{len(samples)}")
    report = {"n": len(samples)}
    for head in LABEL_HEADS:
        report[head] = label_report([getattr(s, head) for s in samples], [getattr(p, head) for p in predictions],
                                    [p.confidence[head] for p in predictions], ids(head))
    report["urgent"] = urgent_report([s.urgent for s in samples], [p.urgent for p in predictions],
                                     [p.confidence["urgent"] if p.urgent else 1 - p.confidence["urgent"]
                                      for p in predictions])
    report["language"] = label_report([s.language for s in samples], [p.language for p in predictions],
                                      [p.confidence["language"] for p in predictions], ids("language"))
    return report


def summary(report: dict) -> dict[str, float]:
    """The figures the targets and the promotion gate are stated in."""
    return {"service_macro_f1": report["service"]["macro_f1"],
            "contact_type_macro_f1": report["contact_type"]["macro_f1"],
            "avoidable_reason_macro_f1": report["avoidable_reason"]["macro_f1"],
            "urgent_recall": report["urgent"]["recall"], "urgent_precision": report["urgent"]["precision"],
            "language_accuracy": report["language"]["accuracy"]}


def fixmystreet_report(model, reports, batch_size: int = 256) -> dict:
    """Service accuracy on real FixMyStreet reports (channel `webchat`: typed into a web form)."""
    from triage.classify.model import Message

    predicted = []
    for start in range(0, len(reports), batch_size):
        predicted += [p.service for p in model.predict_many(
            [Message(r.text, "webchat") for r in reports[start:start + batch_size]])]
    truth = [r.service for r in reports]
    per_service = {}
    for service in sorted(set(truth)):
        rows = [p == t for p, t in zip(predicted, truth, strict=True) if t == service]
        per_service[service] = {"n": len(rows), "recall": round(sum(rows) / len(rows), 4)}
    return {"n": len(reports), "accuracy": round(float(accuracy_score(truth, predicted)), 4),
            "macro_recall": round(float(np.mean([v["recall"] for v in per_service.values()])), 4),
            "per_service": per_service}
