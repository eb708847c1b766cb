"""Health and metrics: what an operator's monitoring sees."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import drain, make_message
from triage.queue import RQJobQueue
from triage.web.app import create_app


def test_healthz_reports_database_and_queue(runtime):
    response = TestClient(create_app(runtime)).get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["queue"] == "ok"


def test_healthz_is_503_when_redis_is_down(runtime, private_redis):
    runtime.queue = RQJobQueue.from_url(private_redis.url)
    private_redis.stop()
    response = TestClient(create_app(runtime)).get("/healthz")
    assert response.status_code == 503
    assert response.json()["queue"].startswith("down")


def test_metrics_count_messages_by_channel_and_queue_depth(runtime, intake):
    intake.accept(make_message(channel="email"))
    intake.accept(make_message(channel="sms", external_id="SM1"))
    client = TestClient(create_app(runtime))

    body = client.get("/metrics").text
    assert 'triage_messages_received_total{channel="email"} 1.0' in body
    assert 'triage_messages_received_total{channel="sms"} 1.0' in body
    assert 'triage_queue_depth{queue="triage"} 2.0' in body

    drain(runtime)
    body = client.get("/metrics").text
    assert "triage_messages_triaged_total 2.0" in body
    assert 'triage_queue_depth{queue="triage"} 0.0' in body
    assert "triage_cases_past_deadline 0.0" in body
