"""Labels every message with service, contact type, avoidable reason, urgency and language."""

from __future__ import annotations

from pathlib import Path

from triage.classify.prediction import Classifier, Prediction
from triage.classify.registry import ModelNotFound, model_path

__all__ = ["Classifier", "ModelNotFound", "Prediction", "load_classifier"]


def load_classifier(model_dir: Path, version: str | None = None) -> Classifier:
    """Load a saved model (the current one unless `version` is given)."""
    path = model_path(model_dir, version)
    from triage.classify.model import TriageModel

    return TriageModel.load(path)
