"""The promotion gate, and `triage models list | promote | rollback` on a real model directory."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from triage.classify.promotion import gate
from triage.classify.registry import current_version, promotion_stack
from triage.classify.training import TrainConfig, train

TRIAGE = str(Path(sys.executable).with_name("triage"))
GOOD = {"service_macro_f1": 0.90, "contact_type_macro_f1": 0.80, "avoidable_reason_macro_f1": 0.75,
        "urgent_recall": 0.98, "urgent_precision": 0.70, "language_accuracy": 0.99}


def test_gate_allows_small_drops_within_tolerance_but_never_lower_urgent_recall():
    assert gate(GOOD | {"service_macro_f1": 0.895}, GOOD, tolerance=0.01).passed
    worse = gate(GOOD | {"contact_type_macro_f1": 0.75}, GOOD, tolerance=0.01)
    assert not worse.passed and "contact_type_macro_f1" in worse.refusals[0]
    missed = gate(GOOD | {"urgent_recall": 0.975}, GOOD, tolerance=0.05)
    assert not missed.passed and "urgent_recall" in missed.refusals[0]


def triage(model_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"TRIAGE_MODEL_DIR": str(model_dir), "TRIAGE_DATA_DIR": str(model_dir / "var")}
    return subprocess.run([TRIAGE, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def corpus_file(tmp_path, tiny_corpus):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(dataclasses.asdict(s)) + "\n" for s in tiny_corpus))
    return path


def test_a_deliberately_worse_model_is_refused_then_forced_then_rolled_back(model_dir, tiny_corpus, corpus_file):
    rng = random.Random(0)
    services = [s.service for s in tiny_corpus]
    rng.shuffle(services)
    scrambled = [dataclasses.replace(s, service=service) for s, service in zip(tiny_corpus, services, strict=True)]
    train(scrambled, TrainConfig(seed=1), "worse").model.save(model_dir / "worse")

    refused = triage(model_dir, "models", "promote", "worse", "--data", str(corpus_file))
    assert refused.returncode == 1, refused.stderr
    assert "refused: service_macro_f1" in refused.stderr
    assert current_version(model_dir) == "tiny"

    forced = triage(model_dir, "models", "promote", "worse", "--data", str(corpus_file), "--force",
                    "--reason", "trying the scrambled labels")
    assert forced.returncode == 0, forced.stderr
    assert current_version(model_dir) == "worse"
    history = [json.loads(line) for line in (model_dir / "HISTORY.jsonl").read_text().splitlines()]
    assert history[-1]["note"].startswith("forced past: service_macro_f1")
    assert history[-1]["note"].endswith("reason: trying the scrambled labels")
    assert promotion_stack(model_dir) == ["tiny", "worse"]

    listed = triage(model_dir, "models", "list")
    assert "* worse" in listed.stdout and "  tiny" in listed.stdout

    back = triage(model_dir, "models", "rollback")
    assert back.returncode == 0 and current_version(model_dir) == "tiny"
    again = triage(model_dir, "models", "rollback")
    assert again.returncode == 2 and "nothing to roll back to" in again.stderr


def test_promoting_an_unknown_version_is_a_one_line_user_error(model_dir):
    result = triage(model_dir, "models", "promote", "no-such-model")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not found" in result.stderr
