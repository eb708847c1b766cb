"""Saving and loading models so that loading can never run code.

The fitted objects go into one skops file; the model card lists the SHA-256 of
every file in the directory. Loading refuses a directory whose files do not match
the card, and skops refuses any type outside `TRUSTED_TYPES`, so neither a
swapped file nor a crafted one gets to execute anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from triage.classify.memory import release_freed_memory

ESTIMATORS_FILE = "estimators.skops"
CARD_FILE = "model_card.json"
TRUSTED_TYPES = (
    "triage.classify.features.TriageFeatures",
    "triage.classify.features.CompactTfidf",
    "triage.classify.textprep.SpacyLemmatizer",
    "triage.classify.embeddings.StaticEmbedder",
    "triage.classify.blend.SvmNbBlend",
    "triage.classify.neighbours.UrgentNeighbours",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.frozen._frozen.FrozenEstimator",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "builtins.slice",
)
"""Every type the estimators file may contain besides skops' own defaults; anything else is refused."""


class ModelTampered(ValueError):
    """A model file does not match its card, or contains a type that is not trusted."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model, directory: Path) -> Path:
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    state = {"features": model.features, "heads": dict(model.heads), "urgent_model": model.urgent_model,
             "urgent_neighbours": model.urgent_neighbours}
    sio.dump(state, directory / ESTIMATORS_FILE, compression=8)  # zipfile.ZIP_DEFLATED
    card = dict(model.card)
    card.update(version=model.version, urgent_threshold=model.urgent_threshold,
                urgent_rule_precision=model.urgent_rule_precision,
                language_confidence=dict(model.language_confidence))
    card["files"] = {path.name: sha256_file(path) for path in sorted(directory.iterdir())
                     if path.is_file() and path.name != CARD_FILE}
    (directory / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return directory


def read_card(directory: Path) -> dict:
    path = Path(directory) / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelTampered(f"{path}: unreadable model card ({exc})") from None


def verify(directory: Path, card: dict) -> None:
    """Every file the card lists exists with the recorded SHA-256, and nothing else is there."""
    listed = card.get("files") or {}
    if ESTIMATORS_FILE not in listed:
        raise ModelTampered(f"{directory}: the model card lists no {ESTIMATORS_FILE}")
    present = {p.name for p in Path(directory).iterdir() if p.is_file() and p.name != CARD_FILE}
    if present != set(listed):
        raise ModelTampered(f"{directory}: files {sorted(present ^ set(listed))} differ from the model card")
    for name, expected in listed.items():
        if sha256_file(Path(directory) / name) != expected:
            raise ModelTampered(f"{directory / name}: SHA-256 does not match the model card")


def load_model(directory: Path):
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    from triage.classify.model import TriageModel

    card = read_card(directory)
    verify(directory, card)
    path = Path(directory) / ESTIMATORS_FILE
    try:  # skops checks every type against the list before it builds anything (one pass over the file)
        state = sio.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelTampered(f"{path}: refuses to load untrusted types: {exc}") from exc
    release_freed_memory()  # unpacking needs about twice what the model keeps
    return TriageModel(version=card["version"], features=state["features"], heads=state["heads"],
                       urgent_model=state["urgent_model"], urgent_neighbours=state.get("urgent_neighbours"),
                       urgent_threshold=float(card["urgent_threshold"]),
                       urgent_rule_precision=float(card.get("urgent_rule_precision", 0.0)),
                       language_confidence=card.get("language_confidence", {}), card=card)
