"""`triage classify`, `train` and `evaluate` as a user runs them: the real console script, the committed model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.classify.taxonomy import ids

REPO = Path(__file__).resolve().parents[2]
TRIAGE = str(Path(sys.executable).with_name("triage"))
OUTPUT_KEYS = {"id", "service", "contact_type", "avoidable_reason", "urgent", "language", "confidence", "action"}


def triage(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = os.environ | {"TRIAGE_MODEL_DIR": str(REPO / "models")} | env
    return subprocess.run([TRIAGE, *args], input=stdin, capture_output=True, text=True, env=environment,
                          timeout=120, cwd=REPO)


def small_corpus_file(directory: Path) -> Path:
    """A corpus small enough to train on in seconds, written as `triage train --data` reads it."""
    from tests.classify.conftest import small_corpus

    corpus = directory / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(s.__dict__ | {"tags": list(s.tags)}) + "\n"
                              for s in small_corpus(per_service=8, held_out=60)))
    return corpus


LINES = [
    {"id": "m1", "channel": "email", "subject": "Missed bin",
     "text": "Hello,\n\nOur black bin was not emptied on Tuesday at 4 Elm Row.\n\nThanks\nJo"},
    "this is not json",
    {"id": 3, "channel": "sms", "text": "strong smell of gas in the flat, my nan is 90, pls help"},
    {"id": "m4", "channel": "fax", "text": "wrong channel"},
    {"id": "m5", "channel": "webchat", "subject": None, "text": "Mae'r golau stryd tu allan i'r ysgol wedi torri"},
    {"id": "m6", "channel": "post"},
]


def test_classify_contract_with_bad_lines(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in LINES) + "\n")
    result = triage("classify", str(path))
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["m1", 3, "m5"]
    for o in out:
        assert set(o) == OUTPUT_KEYS
        for head in ("service", "contact_type", "avoidable_reason"):
            assert o[head] in ids(head)
            assert 0 <= o["confidence"][head] <= 1
        assert set(o["confidence"]) == {"service", "contact_type", "avoidable_reason"}
        assert o["language"] in ("en", "cy", "other") and isinstance(o["urgent"], bool)
        assert o["action"] in ("auto_reply", "queue")
    bin_message, gas, welsh = out
    assert bin_message["service"] == "waste_recycling"
    assert gas["urgent"] is True and gas["action"] == "queue"
    assert welsh["language"] == "cy"
    errors = result.stderr.splitlines()
    assert any("line 2" in e and "not valid JSON" in e for e in errors)
    assert any("line 4" in e and "channel" in e for e in errors)
    assert any("line 6" in e and "text" in e for e in errors)
    assert len(errors) == 3


def test_classify_reads_stdin_and_exits_0_when_every_line_is_good():
    result = triage("classify", "-", stdin=json.dumps({"id": "a", "channel": "sms", "text": "when is my bin day"}))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "a"


def test_unknown_model_version_is_one_line_and_exit_2():
    result = triage("classify", "--model", "nope", "-", stdin="")
    assert result.returncode == 2
    assert "model nope not found" in result.stderr and result.stderr.count("\n") == 1


def test_train_refuses_labels_outside_the_contract(tmp_path):
    bad = {"id": "x-1", "channel": "sms", "subject": None, "text": "hi", "service": "bins",
           "contact_type": "report_issue", "avoidable_reason": "none", "urgent": False, "language": "en"}
    (tmp_path / "bad.jsonl").write_text(json.dumps(bad) + "\n")
    result = triage("train", "--data", str(tmp_path / "bad.jsonl"), TRIAGE_MODEL_DIR=str(tmp_path / "models"))
    assert result.returncode == 2
    assert "service 'bins' is not a contract id" in result.stderr
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_train_with_corrections_then_evaluate(tmp_path):
    """A staff correction in the database joins the training data; evaluate writes its report."""
    from sqlalchemy.orm import Session

    from triage.store.db import make_engine, upgrade
    from triage.store.models import TrainingSample

    corpus = small_corpus_file(tmp_path)
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(TrainingSample(channel="sms", text="bins not emptied on elm row", service="waste_recycling",
                                   contact_type="report_issue", avoidable_reason="service_failure", urgent=False,
                                   language="en", source="correction", labelled_by="supervisor"))
        session.commit()
    engine.dispose()
    env = {"TRIAGE_MODEL_DIR": str(tmp_path / "models"), "TRIAGE_DATABASE_URL": url,
           "TRIAGE_DATA_DIR": str(tmp_path / "var")}
    trained = triage("train", "--data", str(corpus), "--include-corrections", "--version", "v1", **env)
    assert trained.returncode == 0, trained.stderr
    assert "1 staff corrections" in trained.stderr and "v1 is the current model" in trained.stdout
    card = json.loads((tmp_path / "models" / "v1" / "model_card.json").read_text())
    assert card["data"]["extra"] == 1
    evaluated = triage("evaluate", "--data", str(corpus), "--out", str(tmp_path / "report.json"), **env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "== service: macro-F1" in evaluated.stdout and "confusion" in evaluated.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"] == "v1" and report["service"]["calibration"]["bins"]


@pytest.mark.slow
def test_a_lower_urgent_recall_target_is_the_councils_choice_and_the_gate_still_guards_recall(tmp_path):
    """Fewer false alarms for fewer urgent messages caught: the card records the target chosen, and promotion
    refuses the model that catches fewer unless forced."""
    corpus = small_corpus_file(tmp_path)
    env = {"TRIAGE_MODEL_DIR": str(tmp_path / "models"), "TRIAGE_DATA_DIR": str(tmp_path / "var")}
    lower = ["--urgent-recall-floor", "0.6", "--urgent-recall-target", "0.6"]
    for version, target in (("v1", []), ("v2", lower)):
        trained = triage("train", "--data", str(corpus), "--version", version, *target, **env)
        assert trained.returncode == 0, trained.stderr
    cards = {v: json.loads((tmp_path / "models" / v / "model_card.json").read_text()) for v in ("v1", "v2")}
    assert (cards["v1"]["config"]["urgent_recall_floor"], cards["v1"]["config"]["urgent_recall_target"]) == (0.98, 0.99)
    assert (cards["v2"]["config"]["urgent_recall_floor"], cards["v2"]["config"]["urgent_recall_target"]) == (0.6, 0.6)
    assert cards["v2"]["urgent_threshold"] > cards["v1"]["urgent_threshold"]
    first, second = cards["v1"]["summary"], cards["v2"]["summary"]
    assert second["urgent_recall"] < first["urgent_recall"]
    assert second["urgent_precision"] > first["urgent_precision"]

    refused = triage("models", "promote", "v2", **env)
    assert refused.returncode != 0
    assert "urgent_recall" in refused.stdout + refused.stderr and "v2 not promoted" in refused.stdout + refused.stderr
    assert (tmp_path / "models" / "CURRENT").read_text().strip() == "v1"

    bad = triage("train", "--data", str(corpus), "--urgent-recall-target", "1.5", **env)
    assert bad.returncode == 2 and "not a share between 0 and 1" in bad.stderr
    below_floor = triage("train", "--data", str(corpus), "--urgent-recall-target", "0.9", **env)
    assert below_floor.returncode == 2 and "recall floor (0.98) is above the recall target" in below_floor.stderr
