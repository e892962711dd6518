"""Sample alerts of each format, for `tocsin send-test`."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def samples(*, now: datetime, run: str) -> dict[str, dict[str, Any]]:
    """One payload per format; ``run`` makes the fingerprints unique to this invocation."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "alertmanager": {
            "version": "4",
            "status": "firing",
            "receiver": "tocsin",
            "groupKey": '{}:{alertname="TocsinSendTest"}',
            "truncatedAlerts": 0,
            "groupLabels": {"alertname": "TocsinSendTest"},
            "commonLabels": {"alertname": "TocsinSendTest", "severity": "warning"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.invalid:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "TocsinSendTest",
                        "severity": "warning",
                        "instance": "send-test",
                    },
                    "annotations": {
                        "summary": "Test alert from `tocsin send-test` (Alertmanager format)",
                        "description": "Safe to resolve: it only checks the path to Slack.",
                    },
                    "startsAt": stamp,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.invalid:9090/graph",
                    "fingerprint": f"send-test-am-{run}",
                }
            ],
        },
        "generic": {
            "title": "Test alert from `tocsin send-test` (generic format)",
            "description": "Safe to resolve: it only checks the path to Slack.",
            "severity": "minor",
            "labels": {"source": "send-test"},
            "fingerprint": f"send-test-generic-{run}",
            "starts_at": stamp,
        },
        "grafana": {
            "version": "1",
            "status": "firing",
            "state": "alerting",
            "title": "[FIRING:1] TocsinSendTest",
            "groupKey": '{}:{alertname="TocsinSendTest"}',
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "TocsinSendTest", "severity": "warning"},
                    "annotations": {
                        "summary": "Test alert from `tocsin send-test` (Grafana format)",
                        "description": "Safe to resolve: it only checks the path to Slack.",
                    },
                    "startsAt": stamp,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "values": {"A": 1},
                    "fingerprint": f"send-test-grafana-{run}",
                }
            ],
        },
        "pagerduty": {
            "event_action": "trigger",
            "dedup_key": f"send-test-pagerduty-{run}",
            "payload": {
                "summary": "Test alert from `tocsin send-test` (PagerDuty Events v2 format)",
                "source": "send-test",
                "severity": "warning",
                "custom_details": {"note": "Safe to resolve: it only checks the path to Slack."},
            },
        },
    }
