"""Prometheus metrics read from the system of record at scrape time.

Counting in the database rather than in process-local counters keeps the figures
right however many web, SMTP and worker processes there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select

from triage.deadlines import london_date
from triage.queue import JobQueue, QueueUnavailable
from triage.store.models import Case, Message, Reply


class TriageCollector(Collector):
    def __init__(self, sessions, queue: JobQueue) -> None:
        self.sessions = sessions
        self.queue = queue

    def collect(self) -> Iterator:
        today = london_date(datetime.now(UTC))
        with self.sessions() as session:
            received = session.execute(
                select(Message.channel, func.count()).group_by(Message.channel)).all()
            statuses = session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
            retries = session.scalar(select(func.coalesce(func.sum(Message.attempts - 1), 0))
                                     .where(Message.attempts > 1))
            past_deadline = session.scalar(
                select(func.count()).select_from(Case).where(
                    Case.status != "closed",
                    or_(
                        (Case.processed_at.is_(None)) & (Case.processed_by < today),
                        (Case.responded_at.is_(None))
                        & (func.coalesce(Case.promised_by, Case.respond_by) < today),
                    ),
                )
            )
            replies = session.execute(select(Reply.status, func.count()).group_by(Reply.status)).all()

        family = CounterMetricFamily("triage_messages_received", "Messages stored, by channel",
                                     labels=["channel"])
        for channel, count in received:
            family.add_metric([channel], count)
        yield family
        by_status = dict(statuses)
        yield CounterMetricFamily("triage_messages_triaged", "Messages triaged",
                                  value=by_status.get("triaged", 0))
        yield CounterMetricFamily("triage_job_failures", "Messages whose triage failed for the last time",
                                  value=by_status.get("failed", 0))
        yield CounterMetricFamily("triage_job_retries", "Triage attempts beyond the first", value=retries or 0)
        status_family = GaugeMetricFamily("triage_messages", "Messages by status", labels=["status"])
        for status, count in statuses:
            status_family.add_metric([status], count)
        yield status_family
        reply_family = GaugeMetricFamily("triage_replies", "Outbound replies by status", labels=["status"])
        for status, count in replies:
            reply_family.add_metric([status], count)
        yield reply_family
        yield GaugeMetricFamily("triage_cases_past_deadline", "Open cases past a deadline",
                                value=past_deadline or 0)
        depth = GaugeMetricFamily("triage_queue_depth", "Jobs waiting, by queue", labels=["queue"])
        try:
            for name, count in self.queue.depth().items():
                depth.add_metric([name], count)
        except QueueUnavailable:
            pass
        yield depth
