"""The supervisors' models page: cards, the current model, promotion through the gate, rollback, corrections waiting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.web.staff_support import post_form, queued_case, signed_in
from triage import casework
from triage.classify.persistence import CARD_FILE
from triage.classify.registry import current_version, set_current
from triage.store.db import transaction

FIGURES = {"service_macro_f1": 0.80, "contact_type_macro_f1": 0.70, "avoidable_reason_macro_f1": 0.60,
           "urgent_recall": 0.95, "urgent_precision": 0.90, "language_accuracy": 0.99}


def _model(model_dir, version: str, created: str, **changes: float) -> None:
    (model_dir / version).mkdir()
    card = {"created": created, "summary": {**FIGURES, **changes}}
    (model_dir / version / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")


def test_models_page_promotes_through_the_gate_and_rolls_back(runtime, intake):
    case = queued_case(runtime, intake)  # triaged before any model exists: these cards have no estimators
    models = runtime.settings.model_dir
    _model(models, "v1", "2020-01-01T00:00:00+00:00")
    _model(models, "v2", "2020-02-01T00:00:00+00:00", service_macro_f1=0.85)
    _model(models, "v3", "2020-03-01T00:00:00+00:00", urgent_recall=0.90)
    set_current(models, "v1", action="promote", note="first model")
    with transaction(runtime.sessions) as session:
        casework.correct_labels(session, "staff:sam", case.id,
                                casework.Labels("waste_recycling", "report_issue", "service_failure", False, "en"),
                                datetime.now(UTC), {"service": ("waste_recycling",), "contact_type": ("report_issue",),
                                                    "avoidable_reason": ("service_failure",), "language": ("en",)})
    client = signed_in(runtime, "sam", "supervisor")
    page = client.get("/staff/models").text
    assert "Current model: <strong>v1</strong>" in page and "1 label correction made since" in page
    assert "0.850" in page

    refused = post_form(client, "/staff/models", "/staff/models/promote", {"version": "v3"})
    assert refused.status_code == 400 and "urgent_recall" in refused.text
    assert current_version(models) == "v1"

    promoted = post_form(client, "/staff/models", "/staff/models/promote", {"version": "v2"})
    assert "v2 is now the current model." in promoted.text and current_version(models) == "v2"
    history = (models / "HISTORY.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["actor"] == "staff:sam"

    rolled = post_form(client, "/staff/models", "/staff/models/rollback", {})
    assert "v1 is the current model again" in rolled.text and current_version(models) == "v1"
