"""A second opinion for the urgent head: how urgent were the training messages that read most like this one?

The urgent model is linear in its features, so it flags any message that shares
words with risk ("kids stepping in it", "nearly went over") even when the whole
message reads like a routine report. The nearest training messages by sentence
vector (the static MiniLM vectors the features already compute) say what such
messages usually were. Their vote, as log-odds, is clipped and weighted and added
to the model's: it moves a score by at most `weight * clip`, so only messages
that close to the threshold are looked up, and the rest keep the model's answer.

Out of fold on the training split (three fold seeds), precision at the tuned
threshold rose from 0.508-0.527 to 0.546-0.551 at the same recall target.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

CANDIDATES = 64
"""Nearest training vectors kept per vector for the out-of-fold votes; about 51 of them lie outside its fold."""
CHUNK_ROWS = 4096
"""Index rows turned back into float32 at a time: the index is kept as int8, and a float32 copy would cost a
worker about 19 MB."""


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class UrgentNeighbours(BaseEstimator):
    """Balanced vote of the `k` nearest training vectors (cosine), each weighted by exp(similarity gap /
    `temperature`) to the nearest, so that a message with one near-copy in training follows that copy.

    Both classes are reweighted by their share of the training split, as the urgent model's
    `class_weight="balanced"` is; `smoothing` (in units of the nearest neighbour's weight) keeps a vote of
    only one class short of certainty.
    """

    def __init__(self, k: int = 10, temperature: float = 0.02, smoothing: float = 0.01, weight: float = 0.25,
                 clip: float = 4.0):
        self.k = k
        self.temperature = temperature
        self.smoothing = smoothing
        self.weight = weight
        self.clip = clip

    def fit(self, vectors: np.ndarray, urgent: np.ndarray):
        vectors = _unit(vectors)
        if len(vectors) <= self.k:
            raise ValueError(f"the index needs more than k={self.k} training vectors, got {len(vectors)}")
        # int8 per row: an L2-normalised row's largest component sets its step; measured out of fold, no loss
        self.scale_ = np.abs(vectors).max(axis=1).clip(1e-12) / 127
        self.index_ = np.round(vectors / self.scale_[:, None]).astype(np.int8)
        self.scale_ = self.scale_.astype(np.float32)
        self.urgent_ = np.asarray(urgent, dtype=bool)
        self.urgent_share_ = float(self.urgent_.mean())
        return self

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """Balanced share of urgent among each vector's nearest training messages."""
        similarity = self._similarity(_unit(vectors))
        nearest = np.argpartition(similarity, -self.k, axis=1)[:, -self.k:]
        return self._vote(np.take_along_axis(similarity, nearest, axis=1), self.urgent_[nearest],
                          self.urgent_share_)

    def _similarity(self, vectors: np.ndarray) -> np.ndarray:
        similarity = np.empty((len(vectors), len(self.index_)), dtype=np.float32)
        for start in range(0, len(self.index_), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            similarity[:, rows] = (vectors @ self.index_[rows].T.astype(np.float32)) * self.scale_[rows]
        return similarity

    def _vote(self, closest: np.ndarray, urgent: np.ndarray, share) -> np.ndarray:
        weights = np.exp((closest - closest.max(axis=1, keepdims=True)) / self.temperature)
        yes = (weights * urgent).sum(axis=1) / share
        no = (weights * ~urgent).sum(axis=1) / (1 - share)
        return (yes + self.smoothing) / (yes + no + 2 * self.smoothing)

    def reach(self) -> float:
        """The most the second opinion can move a score, in log-odds."""
        return self.weight * self.clip

    def combine(self, model_p: np.ndarray, neighbour_p: np.ndarray) -> np.ndarray:
        """The model's probability moved by the neighbours' clipped, weighted log-odds."""
        z = log_odds(model_p) + self.weight * np.clip(log_odds(neighbour_p), -self.clip, self.clip)
        return 1 / (1 + np.exp(-z))

    def within_reach(self, model_p: np.ndarray, threshold: float) -> np.ndarray:
        """Which scores the second opinion could carry across `threshold`: the only ones worth looking up."""
        return np.abs(log_odds(model_p) - log_odds(np.array([threshold]))) <= self.reach()

    def out_of_fold(self, vectors: np.ndarray, urgent: np.ndarray, splits) -> list[np.ndarray]:
        """For each fold split (a list of (train, test) index pairs: the urgent model's own), every training
        vector's probability from an index of the other folds, to tune the threshold on what is served.

        The same as fitting an index per fold, but each vector's nearest `CANDIDATES` in the whole training
        split are found once for all splits, and the nearest of those outside its own fold vote (a vector
        with fewer than `k` of them is looked up again in full): three splits took 24 s fold by fold, 7 s so.
        """
        urgent = np.asarray(urgent, dtype=bool)
        index = UrgentNeighbours(**self.get_params()).fit(vectors, urgent)
        vectors = _unit(vectors)
        candidates = np.empty((len(vectors), CANDIDATES), dtype=np.int64)
        closeness = np.empty((len(vectors), CANDIDATES), dtype=np.float32)
        for start in range(0, len(vectors), CHUNK_ROWS):
            rows = np.arange(start, min(start + CHUNK_ROWS, len(vectors)))
            similarity = index._similarity(vectors[rows])
            similarity[np.arange(len(rows)), rows] = -np.inf  # a message is not its own neighbour
            candidates[rows] = np.argpartition(similarity, -CANDIDATES, axis=1)[:, -CANDIDATES:]
            closeness[rows] = np.take_along_axis(similarity, candidates[rows], axis=1)
        return [self._split_out_of_fold(index, vectors, candidates, closeness, split) for split in splits]

    def _split_out_of_fold(self, index: UrgentNeighbours, vectors: np.ndarray, candidates: np.ndarray,
                           closeness: np.ndarray, split) -> np.ndarray:
        fold = np.empty(len(vectors), dtype=np.int64)
        for number, (_, test) in enumerate(split):
            fold[test] = number
        share = np.array([index.urgent_[train].mean() for train, _ in split])[fold]
        outside = np.where(fold[candidates] != fold[:, None], closeness, -np.inf)
        nearest = np.argpartition(outside, -self.k, axis=1)[:, -self.k:]
        out = self._vote(np.take_along_axis(outside, nearest, axis=1),
                         index.urgent_[np.take_along_axis(candidates, nearest, axis=1)], share)
        for row in np.flatnonzero(np.isinf(outside).sum(axis=1) > CANDIDATES - self.k):
            similarity = index._similarity(vectors[row:row + 1])
            similarity[0, fold == fold[row]] = -np.inf
            found = np.argpartition(similarity[0], -self.k)[-self.k:]
            out[row] = self._vote(similarity[:, found], index.urgent_[found][None], share[row])[0]
        return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
