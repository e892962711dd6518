"""CloudWatch alarms in SNS notifications, from fixtures shaped as SNS and CloudWatch document
them (tests/unit/fixtures/cloudwatch_sns/SOURCE.md says where)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources.cloudwatch_sns import INSUFFICIENT_DATA_LEVEL, parse_cloudwatch_sns

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cloudwatch_sns"
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-latency-p99"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def with_alarm(name: str, **changes: object) -> dict[str, Any]:
    envelope = load(name)
    alarm = json.loads(envelope["Message"])
    alarm.update(changes)
    envelope["Message"] = json.dumps(alarm)
    return dict(envelope)


def test_an_alarm_fires_keyed_by_its_arn_with_the_description_s_severity() -> None:
    payload = load("alarm.json")
    before = copy.deepcopy(payload)

    (event,) = parse_cloudwatch_sns(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.fingerprint == f"cloudwatch_sns:{ARN}"
    assert event.title == "checkout-api-latency-p99"
    assert event.severity == "critical"
    assert event.level is None
    assert event.description.startswith("Checkout API p99 latency above 2 s for 5 minutes.")
    assert "severity: critical" not in event.description
    assert "Threshold Crossed: 5 out of the last 5 datapoints" in event.description
    assert event.starts_at == datetime(2026, 11, 21, 10, 0, 12, 814000, tzinfo=UTC)
    assert event.ends_at is None
    assert event.source == "cloudwatch_sns"


def test_ok_resolves_the_same_alert() -> None:
    (alarm,) = parse_cloudwatch_sns(load("alarm.json"))
    (ok,) = parse_cloudwatch_sns(load("ok.json"))

    assert ok.status is SourceStatus.RESOLVED
    assert ok.fingerprint == alarm.fingerprint
    assert ok.ends_at == datetime(2026, 11, 21, 10, 25, 12, 102000, tzinfo=UTC)
    assert ok.starts_at is None


def test_insufficient_data_fires_at_the_lowest_level_under_the_alarm_s_fingerprint() -> None:
    (alarm,) = parse_cloudwatch_sns(load("alarm.json"))
    (unknown,) = parse_cloudwatch_sns(load("insufficient_data.json"))

    assert unknown.status is SourceStatus.FIRING
    assert unknown.level == INSUFFICIENT_DATA_LEVEL == 3
    assert unknown.fingerprint == alarm.fingerprint
    assert unknown.severity is None
    assert unknown.labels["state"] == "INSUFFICIENT_DATA"


def test_identifiers_and_dimensions_become_labels_and_the_console_a_link() -> None:
    (event,) = parse_cloudwatch_sns(load("alarm.json"))

    assert event.labels == {
        "alarm_name": "checkout-api-latency-p99",
        "state": "ALARM",
        "previous_state": "OK",
        "account": "123456789012",
        "region": "us-east-1",
        "metric": "TargetResponseTime",
        "namespace": "AWS/ApplicationELB",
        "dimension_LoadBalancer": "app/checkout-prod/50dc6c495c0c9188",
        "dimension_TargetGroup": "targetgroup/checkout-api/6d0ecf831eec9f09",
    }
    assert event.links == (
        Link(
            "Alarm in CloudWatch",
            "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
            "#alarmsV2:alarm/checkout-api-latency-p99",
        ),
    )
    assert event.details["AlarmArn"] == ARN
    assert event.details["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:ops-alarms"
    assert event.details["Trigger"]["Threshold"] == 2.0  # type: ignore[index]


def test_a_metric_math_alarm_in_china_links_to_the_china_console() -> None:
    (event,) = parse_cloudwatch_sns(load("metric_math_china.json"))

    assert event.fingerprint == (
        "cloudwatch_sns:arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:orders-error-ratio"
    )
    assert event.labels["region"] == "cn-north-1"
    assert "metric" not in event.labels
    assert event.links[0].url.startswith("https://console.amazonaws.cn/cloudwatch/home?region=")
    assert event.description.startswith("Threshold Crossed")


def test_without_an_arn_the_fingerprint_is_account_region_and_name() -> None:
    (event,) = parse_cloudwatch_sns(with_alarm("alarm.json", AlarmArn=None))

    assert event.fingerprint == (
        "cloudwatch_sns:123456789012:US East (N. Virginia):checkout-api-latency-p99"
    )
    assert event.links == ()


@pytest.mark.parametrize(
    "name", ["subscription_confirmation.json", "unsubscribe_confirmation.json"]
)
def test_the_handshake_is_never_parsed_into_an_alert(name: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_cloudwatch_sns(load(name))

    assert raised.value.field == "Type"
    assert "answered when received" in raised.value.problem


def test_a_message_that_is_not_json_is_refused_naming_it() -> None:
    with pytest.raises(PayloadError) as raised:
        parse_cloudwatch_sns(load("message_not_json.json"))

    assert raised.value.field == "Message"
    assert "not JSON" in raised.value.problem


def test_missing_alarm_fields_are_named_together() -> None:
    with pytest.raises(MissingFieldsError) as raised:
        parse_cloudwatch_sns(load("missing_fields.json"))

    assert raised.value.fields == ("Message.AlarmName", "Message.NewStateValue")


def test_an_unknown_state_is_refused_naming_the_states() -> None:
    with pytest.raises(PayloadError) as raised:
        parse_cloudwatch_sns(load("wrong_state.json"))

    assert raised.value.field == "Message.NewStateValue"
    assert "ALARM, INSUFFICIENT_DATA, OK" in raised.value.problem
    assert '"ALERT"' in raised.value.problem


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], ""),
        ({"Message": "{}"}, "Type"),
        ({"Type": "Publish", "Message": "{}"}, "Type"),
        ({"Type": "Notification"}, "Message"),
        ({"Type": "Notification", "Message": 7}, "Message"),
        ({"Type": "Notification", "Message": "[1]"}, "Message"),
        ({"Type": "Notification", "Message": '{"a": NaN}'}, "Message"),
    ],
)
def test_a_malformed_envelope_is_refused_naming_the_place(payload: object, field: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_cloudwatch_sns(payload)

    assert raised.value.field == field


def test_a_nul_inside_the_message_s_json_is_not_kept() -> None:
    (event,) = parse_cloudwatch_sns(
        with_alarm(
            "alarm.json",
            NewStateReason="bad\u0000value",
            OldStateValue="O\ud800K",
            Trigger={"Namespace": "x\u0000", "Extra": {"k\u0000": ["v\u0000"]}},
        )
    )

    assert "\x00" not in event.description
    assert all("\ud800" not in value for value in event.labels.values())
    assert "\\u0000" not in json.dumps(event.details)
    json.dumps(event.details, ensure_ascii=False).encode("utf-8")


def test_dimensions_of_the_wrong_shape_are_named() -> None:
    payload = with_alarm("alarm.json", Trigger={"Dimensions": [{"name": "A", "value": 3}]})

    with pytest.raises(PayloadError) as raised:
        parse_cloudwatch_sns(payload)

    assert raised.value.field == "Message.Trigger.Dimensions[0].value"
