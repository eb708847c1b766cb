"""The urgent head's second opinion: the nearest training messages' vote, added to the model's score."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from triage.classify import neighbours as module
from triage.classify.model import Message
from triage.classify.neighbours import UrgentNeighbours, log_odds
from triage.classify.textprep import prepare

RNG = np.random.default_rng(3)


def clusters(n_per: int = 60, dimensions: int = 16):
    """Two tight groups of unit vectors: one all urgent, one where 1 in 10 is."""
    centres = RNG.normal(size=(2, dimensions))
    vectors = np.vstack([centre + 0.15 * RNG.normal(size=(n_per, dimensions)) for centre in centres])
    urgent = np.zeros(2 * n_per, dtype=bool)
    urgent[:n_per] = True
    urgent[n_per::10] = True
    return vectors, urgent, centres


def test_a_message_reads_like_its_nearest_training_messages():
    vectors, urgent, centres = clusters()
    index = UrgentNeighbours(k=10).fit(vectors, urgent)
    like_urgent, like_routine = index.probability(centres)
    assert like_urgent > 0.95
    # 1 in 10 urgent near it, but urgent is the rarer class overall: balanced, the vote is still well below half
    assert like_routine < 0.35


def test_the_int8_index_scores_as_the_float_vectors_would():
    vectors, urgent, centres = clusters()
    index = UrgentNeighbours(k=10).fit(vectors, urgent)
    assert index.index_.dtype == np.int8
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    exact = queries @ unit.T
    assert np.abs(index._similarity(queries, slice(None)) - exact).max() < 0.01


def test_only_scores_within_reach_can_be_carried_across_the_threshold():
    index = UrgentNeighbours(weight=0.25, clip=4.0)
    threshold = 0.15
    scores = np.linspace(0.001, 0.999, 4001)
    near = index.within_reach(scores, threshold)
    assert 0 < near.sum() < len(scores)
    for vote in (0.0, 1.0):  # the strongest second opinion either way
        moved = index.combine(scores, np.full(len(scores), vote))
        assert ((moved >= threshold) == (scores >= threshold))[~near].all()
    assert np.abs(log_odds(index.combine(scores, np.ones(len(scores)))) - log_odds(scores)).max() <= 1.0 + 1e-9


@pytest.mark.parametrize(("candidates", "chunk_rows"), [(64, 1024), (12, 7)])
def test_out_of_fold_votes_equal_an_index_fitted_per_fold(monkeypatch, candidates, chunk_rows):
    """The shortcut (nearest candidates found once for every split) gives each fold index's own answer, also when
    too few candidates lie outside a vector's fold and it is looked up in full (12 candidates, k 10), and when
    the index is read in many chunks."""
    monkeypatch.setattr(module, "CANDIDATES", candidates)
    monkeypatch.setattr(module, "CHUNK_ROWS", chunk_rows)
    vectors, urgent, _ = clusters(n_per=80)
    splits = [list(StratifiedKFold(5, shuffle=True, random_state=seed).split(vectors, urgent)) for seed in (0, 1)]
    fast = UrgentNeighbours(k=10).fit(vectors, urgent).out_of_fold(vectors, splits)
    for split, votes in zip(splits, fast, strict=True):
        slow = np.zeros(len(urgent))
        for train, test in split:
            slow[test] = UrgentNeighbours(k=10).fit(vectors[train], urgent[train]).probability(vectors[test])
        np.testing.assert_allclose(votes, slow, atol=1e-6)


def test_the_default_model_asks_the_neighbours_and_keeps_them_when_saved(embedded_model, tmp_path):
    assert isinstance(embedded_model.urgent_neighbours, UrgentNeighbours)
    assert embedded_model.card["urgent_second_opinion"]["k"] == 10
    messages = [Message("the lorry went straight past our bins again this morning", "sms"),
                Message("my dad has fallen and can't get up, the carer never came", "sms"),
                Message("pothole outside the school, kids step in it crossing", "telegram")]
    matrix = embedded_model.features.transform([prepare(m.text, channel=m.channel) for m in messages])
    alone = embedded_model.urgent_model.predict_proba(matrix)[:, 1]
    served = embedded_model._urgent_probability(matrix)
    near = embedded_model.urgent_neighbours.within_reach(alone, embedded_model.urgent_threshold)
    np.testing.assert_array_equal(served[~near], alone[~near])
    reloaded = type(embedded_model).load(embedded_model.save(tmp_path / "m"))
    assert [p.urgent for p in reloaded.predict_many(messages)] == [p.urgent for p in
                                                                   embedded_model.predict_many(messages)]
    np.testing.assert_array_equal(reloaded._urgent_probability(matrix), served)


def test_without_an_encoder_the_model_stands_alone(tiny_model):
    assert tiny_model.urgent_neighbours is None
    assert "urgent_second_opinion" not in tiny_model.card
