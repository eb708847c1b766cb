"""The trained classifier: shared features, three calibrated label heads, the urgent head and language.

`TriageModel` is what `load_classifier` returns and the triage job calls; it holds
fitted scikit-learn objects only (saved with skops by `persistence.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from triage.classify.features import TriageFeatures
from triage.classify.language import LanguageDetector
from triage.classify.memory import release_freed_memory
from triage.classify.neighbours import UrgentNeighbours
from triage.classify.prediction import Prediction
from triage.classify.taxonomy import LABEL_HEADS
from triage.classify.textprep import PreparedText, prepare
from triage.classify.urgency import compile_common_scopes, urgent_reasons


@dataclass(frozen=True)
class Message:
    """One thing to classify, as the CLI and the triage job have it."""

    text: str
    channel: str
    subject: str | None = None


WARM_UP = (Message("Re: bin not collected\nMy green bin at SW1A 1AA was missed again, please come back.", "email",
                   "Missed bin"),
           Message("Ni chasglwyd y bin ailgylchu ar ein stryd ni heddiw.", "sms"),
           Message("Dzień dobry, śmieci nie zostały odebrane z naszej ulicy.", "telegram"))
"""One message for each language scope of the lexicon (English, Welsh, another language)."""


@dataclass
class TriageModel:
    version: str
    features: TriageFeatures
    heads: Mapping[str, object]
    """service / contact_type / avoidable_reason -> fitted classifier with calibrated `predict_proba`."""
    urgent_model: object
    urgent_threshold: float
    """Model probability at or above which a message is urgent even when no lexicon rule fired."""
    urgent_neighbours: UrgentNeighbours | None = None
    """Second opinion on the model's urgent score from the nearest training messages (None: the model alone)."""
    urgent_rule_precision: float = 0.0
    """Share of training messages flagged by a lexicon rule that really were urgent."""
    language_confidence: Mapping[str, float] = field(default_factory=dict)
    """Measured accuracy of each language-decision path (see `LanguageDetector.explain`)."""
    card: Mapping = field(default_factory=dict)
    language: LanguageDetector = field(default_factory=LanguageDetector)

    def predict(self, text: str, *, channel: str, subject: str | None = None) -> Prediction:
        return self.predict_many([Message(text, channel, subject)])[0]

    def warm_up(self) -> None:
        """Build now what is otherwise built on first use: spaCy, the vocabularies, the tokenizer, the language
        models, the lexicons of every language scope and the English and Welsh phrases.

        An RQ worker forks for every job; built in the parent, they are shared by every job, where each job
        would otherwise build them again (about 0.7 s) and throw them away.
        """
        self.predict_many(WARM_UP)
        compile_common_scopes()
        release_freed_memory()

    def predict_many(self, messages: Sequence[Message]) -> list[Prediction]:
        """Classify a batch: one spaCy pass and one matrix product per head for all of them."""
        if not messages:
            return []
        docs = [prepare(m.text, channel=m.channel, subject=m.subject) for m in messages]
        matrix = self.features.transform(docs)
        urgent_p = self._urgent_probability(matrix).tolist()
        # argmax, top 3 and the float conversions once per batch: per message they cost more than the heads
        probabilities = {head: self.heads[head].predict_proba(matrix) for head in LABEL_HEADS}
        rows = np.arange(len(docs))
        labels, confidence = {}, {}
        for head, probability in probabilities.items():
            best = probability.argmax(axis=1)
            labels[head] = self.heads[head].classes_[best].tolist()
            confidence[head] = [round(p, 4) for p in probability[rows, best].tolist()]
        top3 = np.argsort(-probabilities["service"], axis=1)[:, :3]
        top3_labels = self.heads["service"].classes_[top3].tolist()
        top3_p = [[round(p, 4) for p in row]
                  for row in np.take_along_axis(probabilities["service"], top3, axis=1).tolist()]
        return [self._prediction(doc, {head: labels[head][i] for head in LABEL_HEADS},
                                 {head: confidence[head][i] for head in LABEL_HEADS},
                                 tuple(zip(top3_labels[i], top3_p[i], strict=True)), urgent_p[i])
                for i, doc in enumerate(docs)]

    def _urgent_probability(self, matrix) -> np.ndarray:
        """The urgent model's score, with the neighbours' second opinion where it could change the answer."""
        probability = self.urgent_model.predict_proba(matrix)[:, 1]
        if self.urgent_neighbours is None:
            return probability
        near = self.urgent_neighbours.within_reach(probability, self.urgent_threshold)
        if near.any():
            vectors = self.features.embedding_columns(matrix[near])
            probability[near] = self.urgent_neighbours.combine(probability[near],
                                                               self.urgent_neighbours.probability(vectors))
        return probability

    def _prediction(self, doc: PreparedText, labels: dict[str, str], confidence: dict[str, float],
                    top3: tuple[tuple[str, float], ...], urgent_p: float) -> Prediction:
        language, path = self.language.explain(doc.plain)
        rules = urgent_reasons(doc.plain, language)
        reasons = rules + ((f"model (p={urgent_p:.2f})",) if urgent_p >= self.urgent_threshold else ())
        # probability of the answer given, as for the other heads
        confidence["urgent"] = round(max(urgent_p, self.urgent_rule_precision if rules else 0.0)
                                     if reasons else 1.0 - urgent_p, 4)
        confidence["language"] = round(float(self.language_confidence.get(path, 0.5)), 4)
        return Prediction(service=labels["service"], contact_type=labels["contact_type"],
                          avoidable_reason=labels["avoidable_reason"], urgent=bool(reasons), language=language,
                          confidence=confidence, service_top3=top3, entities=doc.entities,
                          urgent_reasons=reasons, model_version=self.version)

    def save(self, directory: Path) -> Path:
        from triage.classify.persistence import save_model

        return save_model(self, Path(directory))

    @classmethod
    def load(cls, directory: Path) -> TriageModel:
        from triage.classify.persistence import load_model

        return load_model(Path(directory))
