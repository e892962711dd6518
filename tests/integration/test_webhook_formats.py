"""Every webhook format through the real HTTP endpoint into (fake) Slack: Grafana with its
signature, PagerDuty Events v2 with its answers and its acknowledge, the metric form, the
Alertmanager group key and truncation — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.sandbox.workspace.models import Message
from config.settings import EXAMPLE_POLICY
from escalation.model import Status
from escalation.sources.template import EXAMPLE_MAPPING
from storage.alerts import metric_of
from storage.tables import AlertEventRow, AlertRow, InboxRow
from tests.support.databases import database
from tests.support.harness import WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.sns import CERT_URL, SUBSCRIBE_URL, make_signer

GRAFANA_SECRET = "grafana-hmac-secret"
SENTRY_SECRET = "sentry-client-secret"
READY_MADE = {
    "datadog": "",
    "sentry": f", hmac_secret: {SENTRY_SECRET}",
    "new_relic": "",
    "elastic": "",
    "icinga": "",
    "opsgenie": "",
    "cloudwatch_sns": "",
}
"""Ready-made sources with an integration of their own name in the test policy (and what
else it says)."""
TEMPLATE = f", template: {json.dumps(EXAMPLE_MAPPING)}"
"""The worked example's mapping (docs/sources.md), for the integration ``checks``."""
FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures"


def policy_file(tmp_path: Path) -> Path:
    """The shipped example, plus Grafana integrations that require a signature."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8").replace(
        "integrations:\n",
        "integrations:\n"
        f"  - {{name: grafana-signed, format: grafana, token: '${{TOCSIN_WEBHOOK_TOKEN}}',"
        f" hmac_secret: {GRAFANA_SECRET}}}\n"
        f"  - {{name: grafana-stamped, format: grafana, token: '${{TOCSIN_WEBHOOK_TOKEN}}',"
        f" hmac_secret: {GRAFANA_SECRET}, timestamp_header: X-Grafana-Alerting-Timestamp}}\n"
        + "".join(
            f"  - {{name: {name}, format: {name}, token: '${{TOCSIN_WEBHOOK_TOKEN}}'{extra}}}\n"
            for name, extra in READY_MADE.items()
        )
        + f"  - {{name: checks, format: template, token: '${{TOCSIN_WEBHOOK_TOKEN}}'{TEMPLATE}}}\n",
        1,
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def tocsin(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database(request.param, tmp_path) as url,
        running_tocsin(database_url=url, config_path=policy_file(tmp_path)) as harness,
    ):
        yield harness


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def text_of(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


async def alert_row(tocsin: Harness, fingerprint: str) -> AlertRow:
    async with tocsin.service.db.read() as session:
        query = select(AlertRow).where(AlertRow.fingerprint == fingerprint)
        row = (await session.exec(query.order_by(col(AlertRow.id).desc()))).first()
    assert row is not None, fingerprint
    return row


async def timeline(tocsin: Harness, alert_id: int) -> list[AlertEventRow]:
    async with tocsin.service.db.read() as session:
        query = select(AlertEventRow).where(AlertEventRow.alert_id == alert_id)
        return list((await session.exec(query.order_by(col(AlertEventRow.id)))).all())


async def wait_for_row(tocsin: Harness, fingerprint: str, **expected: object) -> AlertRow:
    found: list[AlertRow] = []

    async def check() -> bool:
        async with tocsin.service.db.read() as session:
            row = (
                await session.exec(select(AlertRow).where(AlertRow.fingerprint == fingerprint))
            ).first()
        if row is None or any(getattr(row, k) != v for k, v in expected.items()):
            return False
        found.append(row)
        return True

    await tocsin.until(check, what=f"alert {fingerprint} with {expected}")
    return found[-1]


async def wait_for_text(tocsin: Harness, needle: str) -> Any:
    def there() -> bool:
        return any(needle in text_of(m) for m in tocsin.channel_messages())

    await tocsin.world.wait_for(there, timeout=10)
    return next(m for m in tocsin.channel_messages() if needle in text_of(m))


def signed(body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    message = body if timestamp is None else timestamp.encode() + b":" + body
    digest = hmac.new(GRAFANA_SECRET.encode(), message, hashlib.sha256).hexdigest()
    headers = {"X-Grafana-Alerting-Signature": digest}
    if timestamp is not None:
        headers["X-Grafana-Alerting-Timestamp"] = timestamp
    return headers


async def post_raw(
    tocsin: Harness, path: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await tocsin.http.post(
        f"{tocsin.base_url}{path}",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# --- Template --------------------------------------------------------------------------------


async def test_a_template_integration_maps_its_tools_body_to_a_warning_then_resolves_it(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("checks", fixture("template/down.json"))
    assert response.status_code == 202, response.text
    assert response.json()["alerts"] == 1

    message = await wait_for_text(tocsin, "Checkout API is down")
    assert "https://status.example.com/monitors/778" in text_of(message)
    row = await alert_row(tocsin, "template:monitor-778")
    assert row.integration == "checks"
    assert row.group_key == "acme"

    response = await tocsin.webhook("checks", fixture("template/up.json"))
    assert response.status_code == 202, response.text
    await wait_for_row(tocsin, "template:monitor-778", status="resolved", resolved_by_source=True)


async def test_a_body_lacking_what_the_template_reads_is_a_422_naming_the_place(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("checks", fixture("template/missing_name.json"))

    assert response.status_code == 422
    assert response.json()["field"] == "template.title (alerts[0])"
    assert "has no attribute 'name'" in response.json()["error"]
    async with tocsin.service.db.read() as session:
        assert not (await session.exec(select(InboxRow))).all()


# --- Grafana ---------------------------------------------------------------------------------


async def test_grafana_alert_is_posted_with_its_values_and_links_then_resolved(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("grafana", fixture("grafana/firing.json"))
    assert response.status_code == 202, response.text

    message = await wait_for_text(tocsin, "API p99 latency is 2.4 s")
    assert "Values: B=2.4, C=1" in text_of(message)
    assert "viewPanel=2" in text_of(message)
    row = await alert_row(tocsin, "a1b2c3d4e5f60718")
    assert row.group_key == '{}/{alertname="HighLatency"}:{alertname="HighLatency"}'

    response = await tocsin.webhook("grafana", fixture("grafana/resolved.json"))
    assert response.status_code == 202
    await wait_for_row(tocsin, "a1b2c3d4e5f60718", status="resolved", resolved_by_source=True)


async def test_grafana_signature_is_checked_when_the_integration_has_a_secret(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("grafana/firing.json")).encode()
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

    missing = await post_raw(tocsin, "/webhooks/grafana-signed", body, auth)
    wrong = await post_raw(
        tocsin,
        "/webhooks/grafana-signed",
        body,
        {**auth, "X-Grafana-Alerting-Signature": "0" * 64},
    )
    tampered = await post_raw(
        tocsin, "/webhooks/grafana-signed", body + b" ", {**auth, **signed(body)}
    )
    right = await post_raw(tocsin, "/webhooks/grafana-signed", body, {**auth, **signed(body)})

    assert missing.status_code == 401
    assert missing.json()["error"] == "missing X-Grafana-Alerting-Signature header"
    assert wrong.status_code == tampered.status_code == 401
    assert "wrong X-Grafana-Alerting-Signature header" in wrong.json()["error"]
    assert right.status_code == 202, right.text


async def test_grafana_signature_with_a_timestamp_covers_it_and_refuses_old_ones(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("grafana/firing.json")).encode()
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    now = str(int(time.time()))
    old = str(int(time.time()) - 3600)

    fresh = await post_raw(
        tocsin, "/webhooks/grafana-stamped", body, {**auth, **signed(body, timestamp=now)}
    )
    stale = await post_raw(
        tocsin, "/webhooks/grafana-stamped", body, {**auth, **signed(body, timestamp=old)}
    )
    body_only = await post_raw(tocsin, "/webhooks/grafana-stamped", body, {**auth, **signed(body)})

    assert fresh.status_code == 202, fresh.text
    assert stale.status_code == 401
    assert "more than 5 minutes" in stale.json()["error"]
    assert body_only.status_code == 401


# --- PagerDuty -------------------------------------------------------------------------------


def pd_trigger(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": WEBHOOK_TOKEN,
        "event_action": "trigger",
        "dedup_key": "checkout-5xx",
        "payload": {
            "summary": "Checkout 5xx rate above 8%",
            "source": "checkout-1.prod",
            "severity": "critical",
        },
    }
    event.update(overrides)
    return event


async def test_pagerduty_trigger_with_routing_key_alone_is_answered_like_pagerduty(
    tocsin: Harness,
) -> None:
    response = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", json=pd_trigger())

    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout-5xx",
    }
    await wait_for_text(tocsin, "Checkout 5xx rate above 8%")


async def test_pagerduty_trigger_without_dedup_key_answers_the_key_that_resolves_it(
    tocsin: Harness,
) -> None:
    first = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/pagerduty", json=pd_trigger(dedup_key=None)
    )
    key = first.json()["dedup_key"]
    await wait_for_row(tocsin, key, status="firing")

    resolve = {"routing_key": WEBHOOK_TOKEN, "event_action": "resolve", "dedup_key": key}
    second = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", json=resolve)

    assert second.status_code == 202
    assert second.json()["dedup_key"] == key
    await wait_for_row(tocsin, key, status="resolved")


async def test_pagerduty_acknowledge_acknowledges_the_alert_and_stops_escalation(
    tocsin: Harness,
) -> None:
    await tocsin.webhook("pagerduty", pd_trigger())
    await wait_for_row(tocsin, "checkout-5xx", status="firing", tier=0)  # tier 1 paged
    await wait_for_text(tocsin, "Checkout 5xx rate above 8%")

    ack = {"routing_key": WEBHOOK_TOKEN, "event_action": "acknowledge", "dedup_key": "checkout-5xx"}
    response = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", json=ack)

    assert response.status_code == 202
    row = await wait_for_row(tocsin, "checkout-5xx", status=Status.ACKNOWLEDGED.value)
    assert row.acknowledged_by is None
    assert not row.escalating
    assert row.acknowledged_at is not None
    assert row.next_action_at == row.owner_deadline_at  # no reminders, only the deadline
    assert row.owner_deadline_at == row.acknowledged_at + timedelta(hours=4)  # level 1
    assert row.tier == 0  # tier 2 (due 15 min after tier 1) is no longer due
    lines = [(e.rule, e.summary) for e in await timeline(tocsin, row.id or 0)]
    assert ("ACK-SRC-1", "acknowledged by the source") in lines
    await wait_for_text(tocsin, "*Acknowledged* by the source")


async def test_pagerduty_acknowledge_for_an_unknown_key_is_accepted_and_ignored(
    tocsin: Harness,
) -> None:
    ack = {"routing_key": WEBHOOK_TOKEN, "event_action": "acknowledge", "dedup_key": "nope"}
    response = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", json=ack)

    assert response.status_code == 202

    async def processed() -> bool:
        async with tocsin.service.db.read() as session:
            rows = (await session.exec(select(InboxRow))).all()
        return bool(rows) and all(r.status == "done" for r in rows)

    await tocsin.until(processed, what="the acknowledge processed")
    async with tocsin.service.db.read() as session:
        assert not (await session.exec(select(AlertRow))).all()


async def test_pagerduty_invalid_event_is_400_listing_every_error(tocsin: Harness) -> None:
    event = pd_trigger(payload={"severity": "critical"})

    response = await tocsin.http.post(f"{tocsin.base_url}/webhooks/pagerduty", json=event)

    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["payload.summary is required", "payload.source is required"],
    }


async def test_pagerduty_wrong_routing_key_is_401_and_stores_nothing(tocsin: Harness) -> None:
    response = await tocsin.http.post(
        f"{tocsin.base_url}/webhooks/pagerduty", json=pd_trigger(routing_key="not-the-key")
    )

    assert response.status_code == 401
    assert response.json()["status"] == "unauthorized"
    async with tocsin.service.db.read() as session:
        assert not (await session.exec(select(InboxRow))).all()


async def test_pagerduty_own_path_picks_the_integration_by_routing_key(tocsin: Harness) -> None:
    good = await tocsin.http.post(f"{tocsin.base_url}/v2/enqueue", json=pd_trigger())
    bad = await tocsin.http.post(
        f"{tocsin.base_url}/v2/enqueue", json=pd_trigger(routing_key="other")
    )

    assert good.status_code == 202
    assert good.json()["dedup_key"] == "checkout-5xx"
    assert bad.status_code == 401
    row = await wait_for_row(tocsin, "checkout-5xx", status="firing")
    assert row.integration == "pagerduty"


# --- generic: metric form, missing fields ----------------------------------------------------


async def test_metric_refire_updates_the_stored_metric(tocsin: Harness) -> None:
    first = fixture("generic/metric.json")
    await tocsin.webhook("generic", first)
    row = await wait_for_row(tocsin, _fingerprint_of(first), status="firing")
    metric = metric_of(row)
    assert metric is not None
    assert metric.value == 410.0

    await tocsin.webhook("generic", {**first, "value": 300})
    row = await wait_for_row(tocsin, _fingerprint_of(first), count=2)

    metric = metric_of(row)
    assert metric is not None
    assert (metric.value, metric.baseline, metric.unit) == (300.0, 520.0, "orders")
    assert row.details["owner_team"] == "sales-ops"


def _fingerprint_of(payload: dict[str, Any]) -> str:
    from escalation.sources.generic import parse_generic

    return parse_generic(payload)[0].fingerprint


async def test_missing_fields_are_422_naming_all_of_them(tocsin: Harness) -> None:
    response = await tocsin.webhook("generic", fixture("generic/metric_missing.json"))

    assert response.status_code == 422
    assert response.json() == {
        "error": "missing required fields: alerts[0].value, alerts[0].baseline, alerts[1].title",
        "field": "alerts[0].value",
        "missing": ["alerts[0].value", "alerts[0].baseline", "alerts[1].title"],
    }


# --- Alertmanager ----------------------------------------------------------------------------


async def test_truncated_alerts_are_said_on_the_warning_and_in_the_timeline(
    tocsin: Harness,
) -> None:
    response = await tocsin.webhook("alertmanager", fixture("alertmanager/truncated.json"))
    assert response.status_code == 202

    row = await wait_for_row(tocsin, "1111111111111111", status="firing")
    assert row.group_key == '{}:{alertname="TargetMissing"}'
    lines = [e.summary for e in await timeline(tocsin, row.id or 0)]
    assert (
        "Alertmanager truncated 3 alerts from this notification (max_alerts); "
        "they are not in Tocsin" in lines
    )
    message = await wait_for_text(tocsin, "truncated 3 alerts")
    assert "TargetMissing" in text_of(message)


# --- ready-made sources: their auth, then firing to the warning and the recovery ------------


async def assert_token_is_required(tocsin: Harness, path: str, body: bytes) -> None:
    """No token and a wrong one are 401 and store nothing."""
    missing = await post_raw(tocsin, path, body)
    wrong = await post_raw(tocsin, path, body, {"Authorization": "Bearer not-the-token"})

    assert (missing.status_code, missing.json()["error"]) == (401, "missing token")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "wrong token")
    async with tocsin.service.db.read() as session:
        assert not (await session.exec(select(InboxRow))).all()


async def test_datadog_trigger_with_its_header_token_warns_and_the_recovery_resolves(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("datadog/triggered.json")).encode()
    await assert_token_is_required(tocsin, "/webhooks/datadog", body)

    # Datadog's custom headers: {"Authorization": "Bearer <token>"}
    response = await post_raw(
        tocsin, "/webhooks/datadog", body, {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    assert response.status_code == 202, response.text

    message = await wait_for_text(tocsin, "Disk almost full on db-1")
    assert "app.datadoghq.com/event/event?id=7399382851234567890" in text_of(message)
    row = await wait_for_row(tocsin, "datadog:6f1c2a9b8e7d4c3b", status="firing")
    assert row.severity == "P1"

    response = await tocsin.webhook("datadog", fixture("datadog/recovered.json"))
    assert response.status_code == 202
    await wait_for_row(
        tocsin, "datadog:6f1c2a9b8e7d4c3b", status="resolved", resolved_by_source=True
    )


async def test_sentry_issue_alert_signed_with_the_client_secret_warns_and_resolves(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("sentry/issue_alert.json")).encode()
    path = f"/webhooks/sentry?token={WEBHOOK_TOKEN}"  # Sentry sends no header one could set

    def sentry_signed(raw: bytes) -> dict[str, str]:
        digest = hmac.new(SENTRY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        return {"Sentry-Hook-Resource": "event_alert", "Sentry-Hook-Signature": digest}

    unsigned = await post_raw(tocsin, path, body)
    wrong = await post_raw(tocsin, path, body, {"Sentry-Hook-Signature": "0" * 64})
    no_token = await post_raw(tocsin, "/webhooks/sentry", body, sentry_signed(body))
    bad_token = await post_raw(tocsin, "/webhooks/sentry?token=nope", body, sentry_signed(body))
    right = await post_raw(tocsin, path, body, sentry_signed(body))

    assert (unsigned.status_code, unsigned.json()["error"]) == (
        401,
        "missing Sentry-Hook-Signature header",
    )
    assert wrong.status_code == no_token.status_code == bad_token.status_code == 401
    assert "wrong Sentry-Hook-Signature header" in wrong.json()["error"]
    assert right.status_code == 202, right.text
    message = await wait_for_text(tocsin, "NoneType' object is not subscriptable")
    assert "sentry.io/organizations/example/issues/1117540176" in text_of(message)
    await wait_for_row(tocsin, "sentry:issue:1117540176", status="firing", severity="error")

    resolved = json.dumps(fixture("sentry/issue_resolved.json")).encode()
    response = await post_raw(tocsin, path, resolved, sentry_signed(resolved))
    assert response.status_code == 202, response.text
    await wait_for_row(
        tocsin, "sentry:issue:1117540176", status="resolved", resolved_by_source=True
    )


async def test_cloudwatch_alarm_through_sns_subscribes_warns_and_resolves(
    tocsin: Harness,
) -> None:
    signer = make_signer()
    tocsin.sns.certificates[CERT_URL] = signer.certificate_pem
    path = f"/webhooks/cloudwatch_sns?token={WEBHOOK_TOKEN}"  # the subscription's URL

    async def post_sns(name: str, *, signed: bool = True, **changes: str) -> httpx.Response:
        message = {**fixture(f"cloudwatch_sns/{name}"), **changes}
        if signed:
            message = signer.sign(message)
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",  # as SNS sends it
            "x-amz-sns-message-type": message["Type"],
        }
        return await post_raw(tocsin, path, json.dumps(message).encode(), headers)

    confirmation = await post_sns("subscription_confirmation.json", SubscribeURL=SUBSCRIBE_URL)
    assert confirmation.status_code == 200, confirmation.text
    assert confirmation.json()["status"] == "subscribed"
    assert tocsin.sns.confirmed == [SUBSCRIBE_URL]

    # the fixture's placeholder signature, its certificate at the test's URL
    forged = await post_sns("alarm.json", signed=False, SigningCertURL=CERT_URL)
    assert forged.status_code == 401
    assert "Signature does not match" in forged.json()["error"]
    unsigned = await post_sns("alarm.json", signed=False, Signature="")
    assert (unsigned.status_code, unsigned.json()["error"]) == (
        401,
        "Signature is missing or not base64",
    )

    response = await post_sns("alarm.json")
    assert response.status_code == 202, response.text
    message = await wait_for_text(tocsin, "checkout-api-latency-p99")
    assert "console.aws.amazon.com/cloudwatch/home?region=us-east-1" in text_of(message)
    key = "cloudwatch_sns:arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-latency-p99"
    row = await wait_for_row(tocsin, key, status="firing", severity="critical")
    assert row.labels["dimension_TargetGroup"] == "targetgroup/checkout-api/6d0ecf831eec9f09"

    response = await post_sns("ok.json")
    assert response.status_code == 202, response.text
    await wait_for_row(tocsin, key, status="resolved", resolved_by_source=True)

    gone = await post_sns("unsubscribe_confirmation.json")
    assert (gone.status_code, gone.json()["status"]) == (200, "ignored")
    async with tocsin.service.db.read() as session:
        stored = (await session.exec(select(InboxRow))).all()
    assert [row.integration for row in stored].count("cloudwatch_sns") == 2  # the notifications


async def test_new_relic_issue_warns_is_acknowledged_at_the_source_then_closed(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("new_relic/activated.json")).encode()
    await assert_token_is_required(tocsin, "/webhooks/new_relic", body)
    key = "new_relic:0ea2df1c-adab-45d2-aae0-042b609d2322"

    response = await tocsin.webhook("new_relic", fixture("new_relic/activated.json"))
    assert response.status_code == 202, response.text
    message = await wait_for_text(tocsin, "Memory Used % &gt; 90")
    assert "Impacted: checkout-1, checkout-2" in text_of(message)
    await wait_for_row(tocsin, key, status="firing", severity="CRITICAL")

    response = await tocsin.webhook("new_relic", fixture("new_relic/acknowledged.json"))
    assert response.status_code == 202
    row = await wait_for_row(tocsin, key, status=Status.ACKNOWLEDGED.value)
    assert row.acknowledged_by is None

    response = await tocsin.webhook("new_relic", fixture("new_relic/closed.json"))
    assert response.status_code == 202
    await wait_for_row(tocsin, key, status="resolved", resolved_by_source=True)


async def test_elastic_alert_from_kibanas_connector_warns_and_its_recovery_resolves(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("elastic/active.json")).encode()
    await assert_token_is_required(tocsin, "/webhooks/elastic", body)
    key = "elastic:0b1e7d30-3c5a-11ef-9d6e-0f5c2e0c9a11:web-1"

    response = await tocsin.webhook("elastic", fixture("elastic/active.json"))
    assert response.status_code == 202, response.text
    message = await wait_for_text(tocsin, "CPU usage above 90%: web-1")
    assert "kibana.example.com/app/observability/alerts/rules" in text_of(message)
    await wait_for_row(tocsin, key, status="firing", severity="metrics.threshold.fired")

    response = await tocsin.webhook("elastic", fixture("elastic/recovered.json"))
    assert response.status_code == 202
    await wait_for_row(tocsin, key, status="resolved", resolved_by_source=True)


async def test_icinga_service_problem_warns_is_acknowledged_then_recovers(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("icinga/service_problem.json")).encode()
    await assert_token_is_required(tocsin, "/webhooks/icinga", body)
    key = "icinga:db-1.example.com!disk"

    response = await tocsin.webhook("icinga", fixture("icinga/service_problem.json"))
    assert response.status_code == 202, response.text
    message = await wait_for_text(tocsin, "Disk /var/lib/postgresql on db-1 is CRITICAL")
    assert "icingadb/service?name=disk" in text_of(message)
    await wait_for_row(tocsin, key, status="firing", severity="CRITICAL")

    response = await tocsin.webhook("icinga", fixture("icinga/service_acknowledgement.json"))
    assert response.status_code == 202
    await wait_for_row(tocsin, key, status=Status.ACKNOWLEDGED.value)

    response = await tocsin.webhook("icinga", fixture("icinga/service_recovery.json"))
    assert response.status_code == 202
    await wait_for_row(tocsin, key, status="resolved", resolved_by_source=True)


async def test_opsgenie_api_creates_acknowledges_and_closes_by_alias_answering_like_opsgenie(
    tocsin: Harness,
) -> None:
    create = json.dumps(fixture("opsgenie/create_alertmanager.json")).encode()
    alias = fixture("opsgenie/create_alertmanager.json")["alias"]
    key = {"Authorization": f"GenieKey {WEBHOOK_TOKEN}"}

    missing = await post_raw(tocsin, "/v2/alerts", create)
    wrong = await post_raw(tocsin, "/v2/alerts", create, {"Authorization": "GenieKey nope"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["message"] == "Could not authenticate"
    assert set(wrong.json()) == {"message", "took", "requestId"}
    async with tocsin.service.db.read() as session:
        assert not (await session.exec(select(InboxRow))).all()

    response = await post_raw(tocsin, "/v2/alerts", create, key)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["result"] == "Request will be processed"
    assert set(answer) == {"result", "took", "requestId"}
    await wait_for_text(tocsin, "DiskFull (postgres prod)")
    await wait_for_row(tocsin, f"opsgenie:{alias}", status="firing", severity="P1")

    by_id = await post_raw(tocsin, f"/v2/alerts/{alias}/close?identifierType=id", b"", key)
    assert by_id.status_code == 422
    assert by_id.json()["message"].startswith("identifierType: ")

    ack = await post_raw(tocsin, f"/v2/alerts/{alias}/acknowledge?identifierType=alias", b"{}", key)
    assert ack.status_code == 202, ack.text
    await wait_for_row(tocsin, f"opsgenie:{alias}", status=Status.ACKNOWLEDGED.value)

    close = await post_raw(
        tocsin,
        f"/v2/alerts/{alias}/close?identifierType=alias",
        json.dumps({"source": "Alertmanager"}).encode(),
        key,
    )
    assert close.status_code == 202, close.text
    await wait_for_row(tocsin, f"opsgenie:{alias}", status="resolved", resolved_by_source=True)


async def test_opsgenie_create_without_message_is_422_in_opsgenies_shape(
    tocsin: Harness,
) -> None:
    body = json.dumps(fixture("opsgenie/missing_fields.json")).encode()

    response = await post_raw(
        tocsin, "/v2/alerts", body, {"Authorization": f"GenieKey {WEBHOOK_TOKEN}"}
    )

    assert response.status_code == 422
    assert response.json()["message"] == "message: is required"


# --- listing, OpenAPI, durability -------------------------------------------------------------


async def test_listing_needs_a_token_and_never_shows_tokens(tocsin: Harness) -> None:
    anonymous = await tocsin.http.get(f"{tocsin.base_url}/webhooks")
    listing = await tocsin.http.get(
        f"{tocsin.base_url}/webhooks", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )

    assert anonymous.status_code == 401
    assert listing.status_code == 200
    found = {i["name"]: i for i in listing.json()["integrations"]}
    assert {n: i["format"] for n, i in found.items()} == {
        "grafana-signed": "grafana",
        "grafana-stamped": "grafana",
        "alertmanager": "alertmanager",
        "generic": "generic",
        "grafana": "grafana",
        "pagerduty": "pagerduty",
        "checks": "template",
        **{name: name for name in READY_MADE},
    }
    assert found["pagerduty"]["url"] == f"{tocsin.base_url}/webhooks/pagerduty"
    assert "routing_key" in found["pagerduty"]["auth"]
    assert "hmac:X-Grafana-Alerting-Signature" in found["grafana-signed"]["auth"]
    assert "hmac:Sentry-Hook-Signature" in found["sentry"]["auth"]
    assert "geniekey" in found["opsgenie"]["auth"]
    assert WEBHOOK_TOKEN not in listing.text
    assert GRAFANA_SECRET not in listing.text
    assert SENTRY_SECRET not in listing.text


async def test_concurrent_webhooks_share_commits_and_each_202_is_a_stored_row(
    tocsin: Harness,
) -> None:
    bodies = [{"title": f"burst {i}", "fingerprint": f"burst-{i}"} for i in range(60)]

    responses = await asyncio.gather(*(tocsin.webhook("generic", b) for b in bodies))

    assert [r.status_code for r in responses] == [202] * 60
    ids = {r.json()["inbox_id"] for r in responses}
    assert len(ids) == 60
    async with tocsin.service.db.read() as session:
        rows = (await session.exec(select(InboxRow).where(col(InboxRow.id).in_(ids)))).all()
    stored = {json.loads(r.body)["fingerprint"]: r.id for r in rows}
    assert stored == {
        b["fingerprint"]: r.json()["inbox_id"] for b, r in zip(bodies, responses, strict=True)
    }
