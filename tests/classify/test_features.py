"""The feature matrix: the fast word and character n-gram paths must give exactly scikit-learn's numbers."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.classify.features import CompactTfidf

TRAINING = [
    "My green bin was not collected on Tuesday",
    "missed bin AGAIN on Harrow Road!!",
    "Mae'r bin gwyrdd heb ei gasglu ddydd Mawrth",
    "pothole outside 14 Mill Lane, ENT_POSTCODE",
    "the bin men missed us, can someone come back",
    "Pothole on Mill Lane is getting deeper",
]
UNSEEN = [
    "Bin not collected — Mill Lane again",
    "  tabs\tand\nnewlines   between   words ",
    "a",
    "Ünïcödé café résumé",
    "x" * 40,
    "",
]


def test_character_ngrams_match_scikit_learn_exactly_including_unseen_words():
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1, sublinear_tf=True,
                                dtype=np.float32).fit(TRAINING)
    compact = CompactTfidf(analyzer="char_wb", ngram_range=(2, 5), min_df=1).fit(TRAINING)

    for _ in range(2):  # the second pass reads the per-word cache
        ours = compact.transform(UNSEEN + TRAINING)
        theirs = reference.transform(UNSEEN + TRAINING)
        assert ours.shape == theirs.shape
        assert np.abs((ours - theirs).toarray()).max() == 0.0


def test_word_ngrams_match_scikit_learn_exactly():
    reference = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, dtype=np.float32).fit(TRAINING)
    compact = CompactTfidf(ngram_range=(1, 2), min_df=1).fit(TRAINING)

    ours = compact.transform(UNSEEN + TRAINING)
    theirs = reference.transform(UNSEEN + TRAINING)
    assert ours.shape == theirs.shape and ours.nnz > 0
    assert np.abs((ours - theirs).toarray()).max() == 0.0


def test_the_word_cache_is_not_saved_with_the_model():
    compact = CompactTfidf(analyzer="char_wb", ngram_range=(2, 5), min_df=1).fit(TRAINING)
    compact.transform(UNSEEN)
    assert "_word_columns" not in compact.__getstate__()
