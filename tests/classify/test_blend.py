"""The SVM + naive Bayes blend behind each label head."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from triage.classify.blend import SvmNbBlend

RNG = np.random.default_rng(0)
LABELS = np.array(["waste_recycling", "highways", "parking"] * 20)


def features(n_count: int = 30, n_embedding: int = 4):
    """TF-IDF-like non-negative columns that carry the label, then embedding columns that may be negative."""
    counts = RNG.random((len(LABELS), n_count)) * 0.2
    for i, label in enumerate(LABELS):
        counts[i, {"waste_recycling": 0, "highways": 1, "parking": 2}[label]] += 1.0
    embedding = RNG.normal(size=(len(LABELS), n_embedding))
    return sp.csr_matrix(np.hstack([counts, embedding])), n_count


def test_with_no_naive_bayes_weight_it_is_the_svm():
    X, n = features()
    blend = SvmNbBlend(C=0.5, nb_weight=0.0, nb_columns=n, random_state=0).fit(X, LABELS)
    svm = LinearSVC(C=0.5, random_state=0).fit(X, LABELS)
    assert (blend.predict(X) == svm.predict(X)).all()


def test_naive_bayes_reads_only_the_count_columns_and_the_blend_learns_the_labels():
    X, n = features()
    blend = SvmNbBlend(nb_columns=n, random_state=0).fit(X, LABELS)  # negative columns would make NB raise
    assert blend.decision_function(X).shape == (len(LABELS), 3)
    assert (blend.predict(X) == LABELS).mean() > 0.95


def test_the_naive_bayes_part_scores_as_complement_nb_does():
    from sklearn.naive_bayes import ComplementNB

    X, n = features()
    blend = SvmNbBlend(C=0.5, nb_weight=1.0, nb_columns=n, random_state=0).fit(X, LABELS)
    reference = ComplementNB(alpha=blend.nb_alpha).fit(X[:, :n], LABELS)
    ours = np.asarray(X @ blend.nb_weights_.T)
    assert (ours.argmax(axis=1) == reference.predict_log_proba(X[:, :n]).argmax(axis=1)).all()


def test_scores_are_the_svm_and_naive_bayes_scores_standardised_and_added():
    from triage.classify.blend import _standardised

    X, n = features()
    blend = SvmNbBlend(C=0.5, nb_weight=0.3, nb_columns=n, random_state=0).fit(X, LABELS)
    expected = _standardised(blend.svm_.decision_function(X)) + 0.3 * _standardised(np.asarray(X @ blend.nb_weights_.T))
    assert np.allclose(blend.decision_function(X), expected, atol=1e-4)
    blend.fit(X[:30], LABELS[:30])  # refitting must not keep the first fit's weights
    expected = _standardised(blend.svm_.decision_function(X)) + 0.3 * _standardised(np.asarray(X @ blend.nb_weights_.T))
    assert np.allclose(blend.decision_function(X), expected, atol=1e-4)
    assert "_stacked" not in blend.__getstate__()


def test_scoring_keeps_one_copy_of_the_weights_and_saving_after_it_keeps_them_all():
    import pickle

    X, n = features()
    blend = SvmNbBlend(C=0.5, nb_weight=0.3, nb_columns=n, random_state=0).fit(X, LABELS)
    coef, nb = blend.svm_.coef_.copy(), blend.nb_weights_.copy()
    scores = blend.decision_function(X)
    stacked = blend.__dict__["_stacked"]
    assert np.shares_memory(blend.svm_.coef_, stacked) and np.shares_memory(blend.nb_weights_, stacked)
    assert np.array_equal(blend.svm_.coef_, coef) and np.array_equal(blend.nb_weights_, nb)
    again = pickle.loads(pickle.dumps(blend))
    assert "_stacked" not in again.__dict__
    assert np.array_equal(again.decision_function(X), scores)
