"""The shared feature matrix every head reads: lemma n-grams, character n-grams and (optionally) MiniLM embeddings.

Built once per message and shared by the heads, so adding a head costs one
linear model, not another pass of spaCy.
"""

from __future__ import annotations

from functools import partial
from operator import is_not

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from triage.classify.embeddings import StaticEmbedder
from triage.classify.textprep import WORD_CACHE_LIMIT, PreparedText, SpacyLemmatizer

_NOT_NONE = partial(is_not, None)
"""`filter(_NOT_NONE, map(vocabulary.get, grams))`: the columns of the grams in the vocabulary, in C."""


def _char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """scikit-learn's `char_wb` n-grams of one word: padded with a space each side, short words once."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        if len(padded) <= n:
            grams.append(padded)
            break
        grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return grams


def _tfidf(columns: np.ndarray, ends: list[int], vectorizer: TfidfVectorizer) -> sp.csr_matrix:
    """The fitted TF-IDF weights of documents given as vocabulary columns (int32, one per occurrence) and row ends."""
    counts = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, np.array(ends, dtype=np.int64)),
                           shape=(len(ends) - 1, len(vectorizer.vocabulary_)))
    counts.sum_duplicates()
    return vectorizer._tfidf.transform(counts, copy=False)


class CompactTfidf(TransformerMixin, BaseEstimator):
    """A TfidfVectorizer whose fitted state is two arrays (terms, idf) instead of a dict.

    skops stores each value of a 50,000-entry vocabulary dict as its own file,
    which made a model take seconds to load and tens of MB on disk; two arrays
    load in milliseconds. The vectorizer is rebuilt from them on first use.
    """

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 1), min_df: int = 1,
                 max_features: int | None = None):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def _vectorizer(self, vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=self.analyzer, ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                               max_features=self.max_features, sublinear_tf=True, dtype=np.float32,
                               vocabulary=vocabulary)

    def fit(self, texts: list[str], y=None):
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: list[str], y=None):
        vectorizer = self._vectorizer()
        matrix = vectorizer.fit_transform(texts)
        self.terms_ = vectorizer.get_feature_names_out().astype(str)
        self.idf_ = vectorizer.idf_.astype(np.float64)
        self.__dict__["_fitted"] = vectorizer
        return matrix

    def transform(self, texts: list[str]):
        vectorizer = self.__dict__.get("_fitted")
        if vectorizer is None:
            check_is_fitted(self, "terms_")
            terms = self.terms_.tolist()
            vectorizer = self._vectorizer({term: i for i, term in enumerate(terms)})
            # the terms as the vocabulary's own strings: a fixed-width array of them as loaded (40,000 terms of up
            # to 59 characters at 4 bytes each) would keep about 10 MB a worker never reads again
            self.terms_ = np.array(terms, dtype=object)
            vectorizer._validate_vocabulary()
            vectorizer.idf_ = self.idf_
            self.__dict__["_fitted"] = vectorizer
        if self.analyzer == "char_wb":
            return self._char_wb_transform(texts, vectorizer)
        if self.analyzer == "word" and tuple(self.ngram_range) == (1, 2):
            return self._word_transform(texts, vectorizer)
        return vectorizer.transform(texts)

    def _word_transform(self, texts: list[str], vectorizer: TfidfVectorizer) -> sp.csr_matrix:
        """What `vectorizer.transform` returns for word unigrams and bigrams, without its per-document
        Counter and analyser chain (half the time: this runs on every message)."""
        preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
        column_of = vectorizer.vocabulary_.get
        columns: list[int] = []
        ends = [0]
        for text in texts:
            tokens = tokenize(preprocess(text))
            grams = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
            columns.extend(filter(_NOT_NONE, map(column_of, grams)))
            ends.append(len(columns))
        return _tfidf(np.fromiter(columns, dtype=np.int32, count=len(columns)), ends, vectorizer)

    def _char_wb_transform(self, texts: list[str], vectorizer: TfidfVectorizer) -> sp.csr_matrix:
        """What `vectorizer.transform` returns, computed word by word.

        `char_wb` n-grams never cross a word boundary, so a word's columns are the
        same wherever it appears: they are looked up once per distinct word and
        cached, instead of generating some 600 n-grams per message in Python.
        """
        cache: dict[str, bytes] = self.__dict__.setdefault("_word_columns", {})
        if len(cache) > WORD_CACHE_LIMIT:
            cache.clear()
        column_of, low, high = vectorizer.vocabulary_.get, self.ngram_range[0], self.ngram_range[1]
        # a word's columns are kept as int32 bytes, so a message's are one join and the batch's one buffer
        rows: list[bytes] = []
        ends = [0]
        for text in texts:
            words = text.lower().split()
            for word in [word for word in words if word not in cache]:
                cache[word] = np.fromiter(filter(_NOT_NONE, map(column_of, _char_wb_ngrams(word, low, high))),
                                          dtype=np.int32).tobytes()
            rows.append(b"".join(map(cache.__getitem__, words)))
            ends.append(ends[-1] + len(rows[-1]) // 4)
        return _tfidf(np.frombuffer(bytearray(b"".join(rows)), dtype=np.int32), ends, vectorizer)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_fitted", None)
        state.pop("_word_columns", None)
        if "terms_" in state:  # saved as loaded: strings, not objects (which safe loading refuses)
            state["terms_"] = self.terms_.astype(str)
        return state


class TriageFeatures(TransformerMixin, BaseEstimator):
    """`PreparedText`s -> sparse matrix [word TF-IDF | char TF-IDF | embedding].

    The vocabularies are capped (`max_words`, `max_chars`) because every column costs a
    weight per label in each head. On 18,500 training samples, 5-fold cross-validation
    (naive Bayes weight 0.3) gave service macro-F1 0.900 at 20,000 + 30,000 columns,
    0.903 at 30,000 + 45,000, 0.905 at these caps and 0.907 at 60,000 + 90,000, which
    would take the model past 50 MB.

    Word n-grams read spaCy lemmas of the masked text ("bins weren't collected" and
    "bin not collected" share features); character n-grams survive typos and OCR
    noise; the embedding (when `embedder` is given) carries meaning across wording.
    """

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                 min_df: int = 2, max_words: int = 40000, max_chars: int = 60000,
                 embedder: StaticEmbedder | None = None):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_words = max_words
        self.max_chars = max_chars
        self.embedder = embedder

    def fit(self, docs: list[PreparedText], y=None):
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: list[PreparedText], y=None):
        masked = [d.masked for d in docs]
        self.lemmatizer_ = SpacyLemmatizer().fit(masked)
        self.words_ = CompactTfidf(ngram_range=self.word_ngrams, min_df=self.min_df, max_features=self.max_words)
        self.chars_ = CompactTfidf(analyzer="char_wb", ngram_range=self.char_ngrams, min_df=self.min_df,
                                   max_features=self.max_chars)
        blocks = [self.words_.fit_transform(self.lemmatizer_.transform(masked)), self.chars_.fit_transform(masked)]
        if self.embedder is not None:
            # fitted in place, as Pipeline fits its steps: a copy would store the word-piece table twice
            self.embedder.fit([d.plain for d in docs])
            blocks.append(sp.csr_matrix(self.embedder.transform([d.plain for d in docs])))
        self.n_features_in_ = 1
        return sp.hstack(blocks, format="csr")

    @property
    def count_columns(self) -> int:
        """How many leading columns are TF-IDF weights (never negative); any embedding columns follow them."""
        check_is_fitted(self, "words_")
        return len(self.words_.terms_) + len(self.chars_.terms_)

    def embedding_columns(self, matrix: sp.csr_matrix) -> np.ndarray | None:
        """The embedding block of rows from `transform`, dense; None when there is no embedder."""
        if self.embedder is None:
            return None
        return matrix[:, self.count_columns:].toarray()

    def transform(self, docs: list[PreparedText]) -> sp.csr_matrix:
        check_is_fitted(self, "words_")
        masked = [d.masked for d in docs]
        blocks = [self.words_.transform(self.lemmatizer_.transform(masked)), self.chars_.transform(masked)]
        if self.embedder is not None:
            blocks.append(sp.csr_matrix(self.embedder.transform([d.plain for d in docs])))
        return sp.hstack(blocks, format="csr")
