"""A tiny model trained once per test session on a slice of the corpus: fast, but a real model."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from triage.classify.dataset import is_held_out, load_samples

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "training_data"


def small_corpus(per_service: int = 14, held_out: int = 120, seed: int = 7):
    """Training samples spread over every service (and so over the other heads), plus some held-out ones."""
    samples = load_samples(CORPUS)
    rng = random.Random(seed)
    training = [s for s in samples if not is_held_out(s.id)]
    rng.shuffle(training)
    taken: Counter[str] = Counter()
    chosen = []
    for sample in training:
        if taken[sample.service] < per_service or sample.urgent and taken["urgent"] < 25:
            chosen.append(sample)
            taken[sample.service] += 1
            taken["urgent"] += sample.urgent
    # every label of every head at least 3 times, however the shuffle fell (training needs 2 per label)
    for head in ("contact_type", "avoidable_reason"):
        have = Counter(getattr(s, head) for s in chosen)
        for sample in training:
            label = getattr(sample, head)
            if have[label] < 3 and sample not in chosen:
                chosen.append(sample)
                have[label] += 1
    held = [s for s in samples if is_held_out(s.id)]
    rng.shuffle(held)
    return chosen + held[:held_out]


@pytest.fixture(scope="session")
def tiny_corpus():
    return small_corpus()


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus):
    from triage.classify.training import TrainConfig, train

    return train(tiny_corpus, TrainConfig(seed=1), "tiny").model


@pytest.fixture
def model_dir(tmp_path, tiny_model):
    """A model directory holding the tiny model as `tiny` (current)."""
    from triage.classify.registry import set_current

    tiny_model.save(tmp_path / "tiny")
    set_current(tmp_path, "tiny", action="promote", note="test")
    return tmp_path


@pytest.fixture(scope="session")
def embedded_model(tiny_corpus):
    """The tiny model with the shipped static MiniLM vectors, as the default model is trained."""
    from triage.classify.training import TrainConfig, train

    return train(tiny_corpus, TrainConfig(seed=1, encoder=str(REPO / "models" / "encoders" / "minilm-l6-static")),
                 "tiny-embedded").model
