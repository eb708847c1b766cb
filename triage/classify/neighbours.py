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

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.base import BaseEstimator

CANDIDATES = 64
"""Nearest training vectors kept per vector for the out-of-fold votes; about 51 of them lie outside its fold."""
CHUNK_ROWS = 1024
"""Index rows turned back into float32 at a time (the index is kept as int8; a float32 copy would cost a worker
about 19 MB), and query rows per thread when training."""


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
        closest, nearest = self._nearest(_unit(vectors))
        return self._vote(closest, self.urgent_[nearest], self.urgent_share_)

    def _nearest(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and index rows of each vector's `k` nearest, one chunk of the index at a time: holding a
        batch's whole similarity matrix kept about 11 MB more in a worker that had classified 8,585 messages."""
        rows = len(vectors)
        closest = np.empty((rows, 0), dtype=np.float32)
        nearest = np.empty((rows, 0), dtype=np.int64)
        for start in range(0, len(self.index_), CHUNK_ROWS):
            chunk = slice(start, min(start + CHUNK_ROWS, len(self.index_)))
            closest = np.hstack([closest, self._similarity(vectors, chunk)])
            nearest = np.hstack([nearest, np.broadcast_to(np.arange(chunk.start, chunk.stop),
                                                           (rows, chunk.stop - chunk.start))])
            if closest.shape[1] > self.k:
                keep = np.argpartition(closest, -self.k, axis=1)[:, -self.k:]
                closest = np.take_along_axis(closest, keep, axis=1)
                nearest = np.take_along_axis(nearest, keep, axis=1)
        return closest, nearest

    def _similarity(self, vectors: np.ndarray, chunk: slice) -> np.ndarray:
        return (vectors @ self.index_[chunk].T.astype(np.float32)) * self.scale_[chunk]

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

    def out_of_fold(self, vectors: np.ndarray, splits, threads: int = 1) -> list[np.ndarray]:
        """For each fold split (a list of (train, test) index pairs: the urgent model's own), every training
        vector's probability from an index of the other folds, to tune the threshold on what is served.
        `vectors` are the ones this index was fitted on.

        The same as fitting an index per fold, but each vector's nearest `CANDIDATES` in the whole training
        split are found once for all splits, and the nearest of those outside its own fold vote (a vector
        with fewer than `k` of them is looked up again in full): three splits took 24 s fold by fold, 4 s so on
        two threads.
        """
        vectors = _unit(vectors)
        candidates = np.empty((len(vectors), CANDIDATES), dtype=np.int64)
        closeness = np.empty((len(vectors), CANDIDATES), dtype=np.float32)

        def shortlist(start: int) -> None:
            rows = np.arange(start, min(start + CHUNK_ROWS, len(vectors)))
            similarity = self._similarity(vectors[rows], slice(None))
            similarity[np.arange(len(rows)), rows] = -np.inf  # a message is not its own neighbour
            candidates[rows] = np.argpartition(similarity, -CANDIDATES, axis=1)[:, -CANDIDATES:]
            closeness[rows] = np.take_along_axis(similarity, candidates[rows], axis=1)

        # NumPy's partition and products leave the GIL: one thread per core
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(shortlist, range(0, len(vectors), CHUNK_ROWS)))
        return [self._split_out_of_fold(vectors, candidates, closeness, split) for split in splits]

    def _split_out_of_fold(self, vectors: np.ndarray, candidates: np.ndarray, closeness: np.ndarray,
                           split) -> np.ndarray:
        fold = np.empty(len(vectors), dtype=np.int64)
        for number, (_, test) in enumerate(split):
            fold[test] = number
        share = np.array([self.urgent_[train].mean() for train, _ in split])[fold]
        outside = np.where(fold[candidates] != fold[:, None], closeness, -np.inf)
        nearest = np.argpartition(outside, -self.k, axis=1)[:, -self.k:]
        out = self._vote(np.take_along_axis(outside, nearest, axis=1),
                         self.urgent_[np.take_along_axis(candidates, nearest, axis=1)], share)
        for row in np.flatnonzero(np.isinf(outside).sum(axis=1) > CANDIDATES - self.k):
            similarity = self._similarity(vectors[row:row + 1], slice(None))
            similarity[0, fold == fold[row]] = -np.inf
            found = np.argpartition(similarity[0], -self.k)[-self.k:]
            out[row] = self._vote(similarity[:, found], self.urgent_[found][None], share[row])[0]
        return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
