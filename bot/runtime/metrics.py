"""Prometheus metrics. One registry per service (no globals), served at ``/metrics``.

Counters and histograms are updated where things happen; the gauges that describe the
database (open alerts, outbox depth and age, escalations due and late) are read from it when
Prometheus scrapes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime.version import build_labels
from storage.db import Database
from storage.upkeep.stats import database_figures

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # The standard process_* (CPU, memory, open files) and python_* (version, GC) figures,
        # on this service's own registry.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        Info("tocsin_build", "Which Tocsin runs: its version and Python's", registry=r).info(
            build_labels()
        )
        self.webhooks = Counter(
            "tocsin_webhooks_received",
            "Webhook requests by integration and outcome",
            ["integration", "outcome"],
            registry=r,
        )
        self._webhook_counters: dict[tuple[str, str], Counter] = {}
        self.refused = Counter(
            "tocsin_requests_refused",
            "Webhook and Slack requests refused, by the check that refused them",
            ["reason"],
            registry=r,
        )
        self.noise_dropped = Counter(
            "tocsin_noise_dropped",
            "Metric events dropped as noise (inside a grading rule's noise band)",
            ["integration"],
            registry=r,
        )
        self.regraded = Counter(
            "tocsin_alerts_regraded", "Open alerts re-graded to a more severe level", registry=r
        )
        self.slack_calls = Counter(
            "tocsin_slack_calls",
            "Slack Web API calls by method and outcome",
            ["method", "outcome"],
            registry=r,
        )
        self.deliveries = Counter(
            "tocsin_outbox_deliveries",
            "Outbox deliveries by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.pages = Counter(
            "tocsin_pages_sent", "Pages delivered by target kind", ["kind"], registry=r
        )
        self.approvals = Counter(
            "tocsin_approvals", "Approval requests sent and decided", ["event"], registry=r
        )
        self.escalation_steps = Counter(
            "tocsin_escalation_steps", "Escalation steps applied", registry=r
        )
        self.ingest_latency = Histogram(
            "tocsin_ingest_latency_seconds",
            "From a webhook stored in the inbox to its alerts opened or updated",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.delivery_latency = Histogram(
            "tocsin_delivery_latency_seconds",
            "From an outbox row written to its delivery",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts_open = Gauge(
            "tocsin_alerts_open", "Open alerts by level and status", ["level", "status"], registry=r
        )
        self.outbox_depth = Gauge("tocsin_outbox_depth", "Pending outbox rows", registry=r)
        self.outbox_age = Gauge(
            "tocsin_outbox_oldest_age_seconds", "Age of the oldest pending outbox row", registry=r
        )
        self.escalations_due = Gauge(
            "tocsin_escalations_due", "Open alerts whose next escalation step is due", registry=r
        )
        self.in_doubt_lookups = Counter(
            "tocsin_outbox_in_doubt_lookups",
            "Deliveries whose earlier attempt had an unknown outcome, by whether Slack had it",
            ["result"],
            registry=r,
        )
        self.slack_degraded = Gauge(
            "tocsin_slack_degraded",
            "1 while Slack calls fail (5xx, 429, timeouts) and deliveries wait, else 0",
            registry=r,
        )
        self.escalations_late = Gauge(
            "tocsin_escalations_late",
            "Open alerts whose next step is overdue by more than 30 seconds",
            registry=r,
        )
        self.config_reloads = Counter(
            "tocsin_config_reloads",
            "Policy file reloads (SIGHUP or the file changed), by result: applied, unchanged "
            "or refused (the old configuration keeps running)",
            ["result"],
            registry=r,
        )
        self.config_stale = Gauge(
            "tocsin_config_stale",
            "1 while the policy file on disk was refused and an older one runs, else 0",
            registry=r,
        )
        self.config_version = Info(
            "tocsin_config", "The policy file this replica runs: a hash of its content", registry=r
        )

        self.rotation_feed_age = Gauge(
            "tocsin_rotation_feed_age_seconds",
            "Age of the copy a calendar-fed rotation is paged from (+Inf: no copy, the fallback)",
            ["rotation"],
            registry=r,
        )
        self.rotation_feed_errors = Counter(
            "tocsin_rotation_feed_errors",
            "Failed fetches or reads of a calendar-fed rotation's feed (the last copy is kept)",
            ["rotation"],
            registry=r,
        )

    def webhook(self, integration: str, outcome: str) -> None:
        """Count one webhook request. The counter for each pair is looked up once: ``labels``
        costs ~2.5 µs, a webhook's whole intake ~200 µs. Integrations come from the policy
        file (an unknown one counts as ``unknown``), so the pairs are few."""
        key = (integration, outcome)
        counter = self._webhook_counters.get(key)
        if counter is None:
            counter = self.webhooks.labels(integration=integration, outcome=outcome)
            self._webhook_counters[key] = counter
        counter.inc()

    def refuse(self, reason: str) -> None:
        self.refused.labels(reason=reason).inc()

    async def render(self, db: Database, *, now: datetime) -> bytes:
        figures = await database_figures(db, now=now, late_after=timedelta(seconds=30))
        self.alerts_open.clear()
        for (level, status), count in figures.open_alerts.items():
            self.alerts_open.labels(level=str(level), status=status).set(count)
        self.outbox_depth.set(figures.outbox_depth)
        self.outbox_age.set(figures.outbox_oldest_age_s)
        self.escalations_due.set(figures.escalations_due)
        self.escalations_late.set(figures.escalations_late)
        return generate_latest(self.registry)


class CountingWebClient(AsyncWebClient):
    """The Slack client, counting every call by method and outcome (``ok`` or the error)."""

    metrics: Metrics | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if self.metrics is not None:
                error = str(exc.response.get("error", "") or exc.response.status_code)
                self.metrics.slack_calls.labels(method=api_method, outcome=error).inc()
            raise
        except Exception:
            if self.metrics is not None:
                self.metrics.slack_calls.labels(method=api_method, outcome="transport").inc()
            raise
        if self.metrics is not None:
            self.metrics.slack_calls.labels(method=api_method, outcome="ok").inc()
        return response
