"""Amazon CloudWatch alarms, delivered by an Amazon SNS topic's HTTPS subscription.

SNS posts a JSON envelope (``Content-Type: text/plain``) whose ``Type`` the header
``x-amz-sns-message-type`` repeats. The HTTP edge (``bot.http.intake.sns``) checks every
envelope's signature against SNS's signing certificate, confirms a
``SubscriptionConfirmation`` by fetching its ``SubscribeURL`` and logs an
``UnsubscribeConfirmation``; only a ``Notification`` is stored and reaches this parser. Its
``Message`` is a JSON *string*: the alarm's state change, as CloudWatch writes it.

``NewStateValue`` ``ALARM`` fires, ``OK`` resolves; ``INSUFFICIENT_DATA`` (sent only when the
alarm has an action for that state: its owner asked to hear of it) fires at level 3, the
lowest, under the same fingerprint — so an alarm already in ``ALARM`` stays at its level, and
the next ``OK`` resolves either. The fingerprint is the ``AlarmArn`` (else account, region and
alarm name). CloudWatch sends no tags in the notification: a ``severity: <word>`` line in the
``AlarmDescription`` is the severity, else there is none and the policy's grading rules (they
may match the labels) or its default level decide. Labels: the alarm's name, account, region,
state, previous state, metric, namespace and each dimension (``dimension_<Name>``); links:
the alarm in the CloudWatch console.
See https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html and
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from escalation.errors import MissingFieldsError, PayloadError
from escalation.model import AlertEvent, Link, SourceStatus
from escalation.sources._fingerprint import keyed_fingerprint
from escalation.sources._source import NON_BLANK, STR, Example, Source
from escalation.sources._validate import (
    MAX_LABEL_CHARS,
    MAX_LABELS,
    child,
    expect_list,
    expect_object,
    expect_str,
    item,
    optional_str,
    parse_iso8601,
    show,
)

NAME = "cloudwatch_sns"
MAX_TITLE_CHARS = 1000
MESSAGE_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
STATES: Mapping[str, SourceStatus] = {
    "ALARM": SourceStatus.FIRING,
    "INSUFFICIENT_DATA": SourceStatus.FIRING,
    "OK": SourceStatus.RESOLVED,
}
INSUFFICIENT_DATA_LEVEL = 3
"""The lowest warning level: what an alarm without data fires at."""
_SEVERITY_LINE = re.compile(r"^\s*severity\s*[:=]\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)
_ALARM_ARN = re.compile(r"arn:(aws[a-z-]*):cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)", re.ASCII)
_CONSOLES = {
    "aws": "https://console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}


def parse_cloudwatch_sns(payload: object) -> list[AlertEvent]:
    """The one event in an SNS ``Notification`` of a CloudWatch alarm (the value
    ``json.loads`` returned). Raises :class:`PayloadError` naming the offending field
    (``Message.<field>`` inside the alarm)."""
    envelope = expect_object(payload, field="")
    kind = envelope.get("Type")
    if kind is None:
        raise PayloadError("Type", "is required (an SNS message: Notification, …)")
    if kind != "Notification":
        if kind in MESSAGE_TYPES:
            raise PayloadError("Type", f"{kind} is answered when received, never stored")
        raise PayloadError("Type", f"must be one of {', '.join(MESSAGE_TYPES)}, got {show(kind)}")
    alarm = _alarm(envelope.get("Message"))
    missing = [
        child("Message", key) for key in ("AlarmName", "NewStateValue") if alarm.get(key) is None
    ]
    if missing:
        raise MissingFieldsError(tuple(missing))
    name = expect_str(alarm["AlarmName"], field="Message.AlarmName", non_empty=True).strip()
    if len(name) > MAX_TITLE_CHARS:
        raise PayloadError(
            "Message.AlarmName",
            f"is {len(name)} characters long; at most {MAX_TITLE_CHARS} are accepted",
        )
    state = expect_str(alarm["NewStateValue"], field="Message.NewStateValue")
    status = STATES.get(state)
    if status is None:
        raise PayloadError(
            "Message.NewStateValue", f"must be one of {', '.join(STATES)}, got {show(state)}"
        )
    text = {key: _text(alarm, key) for key in _TEXT_FIELDS}
    arn = text["AlarmArn"]
    parts = _ALARM_ARN.fullmatch(arn) if arn else None
    account = text["AWSAccountId"] or (parts[3] if parts else None)
    region = parts[2] if parts else text["Region"]
    key = arn or f"{account or '-'}:{region or '-'}:{name}"
    at = _when(text["StateChangeTime"])
    firing = status is SourceStatus.FIRING
    description = "\n\n".join(
        part
        for part in (_without_severity(text["AlarmDescription"]), text["NewStateReason"])
        if part
    )
    return [
        AlertEvent(
            fingerprint=keyed_fingerprint(NAME, key),
            status=status,
            title=name,
            source=NAME,
            description=description,
            severity=_severity(text["AlarmDescription"]),
            level=INSUFFICIENT_DATA_LEVEL if state == "INSUFFICIENT_DATA" else None,
            labels=_labels(alarm, name=name, account=account, region=region),
            links=_links(parts, name),
            starts_at=at if firing else None,
            ends_at=None if firing else at,
            details=_details(envelope, alarm),
        )
    ]


_TEXT_FIELDS = (
    "AlarmArn",
    "AWSAccountId",
    "Region",
    "AlarmDescription",
    "NewStateReason",
    "OldStateValue",
    "StateChangeTime",
)


def _alarm(message: object) -> Mapping[str, object]:
    """The alarm in the envelope's ``Message``: a JSON string holding an object."""
    if message is None:
        raise PayloadError("Message", "is required (the CloudWatch alarm, as a JSON string)")
    text = expect_str(message, field="Message")
    try:
        decoded = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise PayloadError(
            "Message", "must be a JSON string of a CloudWatch alarm; it is not JSON"
        ) from None
    return expect_object(decoded, field="Message")


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _text(alarm: Mapping[str, object], key: str) -> str | None:
    """An optional string of the alarm, stripped; ``None`` when absent, null or blank."""
    value = optional_str(alarm, key, path="Message")
    if value is None:
        return None
    return _storable(value).strip() or None


def _storable(text: str) -> str:
    """No NUL and no lone surrogate (the inner JSON's escapes may hold either)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _when(text: str | None) -> datetime | None:
    """``StateChangeTime`` (``2026-11-21T10:00:00.123+0000``); informational, so an odd one
    is left out."""
    if text is None:
        return None
    try:
        return parse_iso8601(text, field="Message.StateChangeTime")
    except PayloadError:
        return None


def _severity(description: str | None) -> str | None:
    found = _SEVERITY_LINE.search(description or "")
    return found[1][:MAX_LABEL_CHARS] if found else None


def _without_severity(description: str | None) -> str:
    return _SEVERITY_LINE.sub("", description or "").strip()


def _labels(
    alarm: Mapping[str, object], *, name: str, account: str | None, region: str | None
) -> dict[str, str]:
    labels = {"alarm_name": name, "state": str(alarm["NewStateValue"])}
    if account:
        labels["account"] = account
    if region:
        labels["region"] = region
    if old := _text(alarm, "OldStateValue"):
        labels["previous_state"] = old
    trigger = alarm.get("Trigger")
    if trigger is not None:
        trigger = expect_object(trigger, field="Message.Trigger")
        for field, label in (("MetricName", "metric"), ("Namespace", "namespace")):
            if value := optional_str(trigger, field, path="Message.Trigger"):
                labels[label] = _storable(value)
        raw = trigger.get("Dimensions")
        dimensions = [] if raw is None else expect_list(raw, field="Message.Trigger.Dimensions")
        for index, entry in enumerate(dimensions):
            where = item("Message.Trigger.Dimensions", index)
            dimension = expect_object(entry, field=where)
            # CloudWatch writes them {"value": …, "name": …}; the API's own spelling, too
            dim_name = optional_str(dimension, "name", path=where) or optional_str(
                dimension, "Name", path=where
            )
            value = optional_str(dimension, "value", path=where) or optional_str(
                dimension, "Value", path=where
            )
            if dim_name and value is not None and len(labels) < MAX_LABELS:
                labels[_storable(f"dimension_{dim_name}")] = _storable(value)
    return {key[:MAX_LABEL_CHARS]: value[:MAX_LABEL_CHARS] for key, value in labels.items()}


def _links(parts: re.Match[str] | None, name: str) -> tuple[Link, ...]:
    """The alarm in the CloudWatch console of its partition and region (from its ARN)."""
    if parts is None or parts[1] not in _CONSOLES:
        return ()
    url = (
        f"{_CONSOLES[parts[1]]}/cloudwatch/home?region={parts[2]}"
        f"#alarmsV2:alarm/{quote(name, safe='')}"
    )
    return (Link("Alarm in CloudWatch", url),)


def _details(envelope: Mapping[str, object], alarm: Mapping[str, object]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in ("MessageId", "TopicArn", "Subject", "Timestamp"):
        value = envelope.get(key)
        if isinstance(value, str):
            found[key] = _storable(value)
    for key in ("AlarmArn", "AlarmConfigurationUpdatedTimestamp", "NewStateReason"):
        value = alarm.get(key)
        if isinstance(value, str):
            found[key] = _storable(value)
    trigger = alarm.get("Trigger")
    if isinstance(trigger, Mapping):
        found["Trigger"] = _clean(trigger)
    return found


def _clean(value: object) -> object:
    """A JSON value with every string (and key) :func:`_storable`."""
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, Mapping):
        return {_storable(str(key)): _clean(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_clean(member) for member in value]
    return value


_TEXT = {"type": "string", "pattern": NON_BLANK}

SCHEMA: dict[str, Any] = {
    "title": "Amazon SNS Notification of a CloudWatch alarm",
    "type": "object",
    "description": "The SNS envelope; Message is the alarm as a JSON string (NewStateValue "
    "ALARM fires, OK resolves, INSUFFICIENT_DATA fires at level 3; AlarmArn is the "
    "fingerprint). The signature and the subscription handshake are checked at the HTTP edge.",
    "required": [
        "Type",
        "Message",
        "MessageId",
        "TopicArn",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    ],
    "properties": {
        "Type": {"const": "Notification"},
        "Message": {**_TEXT, "contentMediaType": "application/json"},
        "MessageId": STR,
        "TopicArn": STR,
        "Subject": STR,
        "Timestamp": STR,
        "SignatureVersion": {"enum": ["1", "2"]},
        "Signature": STR,
        "SigningCertURL": STR,
        "UnsubscribeURL": STR,
    },
}


def _alarm_message(state: str, *, name: str, reason: str, at: str) -> str:
    return json.dumps(
        {
            "AlarmName": name,
            "AlarmDescription": "Orders API error rate\nseverity: critical",
            "AWSAccountId": "123456789012",
            "NewStateValue": state,
            "NewStateReason": reason,
            "StateChangeTime": at,
            "Region": "EU (Ireland)",
            "AlarmArn": f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}",
            "OldStateValue": "OK" if state == "ALARM" else "ALARM",
            "Trigger": {
                "MetricName": "5XXError",
                "Namespace": "AWS/ApiGateway",
                "Statistic": "SUM",
                "Dimensions": [{"value": "orders", "name": "ApiName"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 10.0,
            },
        }
    )


EXAMPLE_CERT_URL = (
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-tocsin-example.pem"
)
EXAMPLE_SIGNATURE = (
    "y3rdg+wDJolwqYUCSlFgDKoFEi2NFi+MgRyPXcJlPE0mBvBqpcRtMZYX/WsbpgzI6c01IAHtRfGqFVFbBVJc"
    "BLza1e13eMU/dfgdnVO8+AKdiW1kYJr5iHlWfeA+0S3huI69JLlSmYfqMQQnwCfu3BZn565/FGFhTUHTQ+IM"
    "iZsVOTkCM+KW47pJfI2ySXL/Nq9zdToWvJCcRBWXyvdgecUVTnVW7akxyIkOByP/FoaNFg7XMxyc9vJCzEkz"
    "h0AMvbnF95fSVzvZQAfGlmsvfHrhV9bZI+ThvJC1ZBnKkpPUFAtKetk31zwslyXdOcEwCUvVMioCUBgTfUub"
    "iqNeSA=="
)
"""The example's signature, made once with a throwaway key whose certificate (public part
only) tests/support/sns.py serves as a fake SNS at :data:`EXAMPLE_CERT_URL`: the documented
example is accepted by a test service as a genuine SNS message would be. Changing the
example means signing it again with a new key (tests/support/sns.py says how)."""


def _send_test(now: datetime, run: str) -> dict[str, Any]:
    digits = hashlib.sha256(run.encode()).hexdigest()[:12]
    name = f"tocsin-send-test-{digits}"
    at = now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "Type": "Notification",
        "MessageId": f"00000000-0000-0000-0000-{digits}",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:tocsin",
        "Subject": f'ALARM: "{name}" in EU (Ireland)',
        "Message": _alarm_message(
            "ALARM", name=name, reason="Test alarm from `tocsin send-test`: safe to resolve", at=at
        ),
        "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        # only SNS can sign: `tocsin send-test` skips cloudwatch_sns integrations
        "SignatureVersion": "2",
        "Signature": "bm90IHNpZ25lZA==",
        "SigningCertURL": EXAMPLE_CERT_URL,
    }


SOURCE = Source(
    name=NAME,
    title="Amazon CloudWatch alarms through an Amazon SNS HTTPS subscription",
    parse=parse_cloudwatch_sns,
    schema=SCHEMA,
    examples=(
        Example(
            name="cloudwatch-sns-alarm",
            summary="cloudwatch_sns: an alarm goes to ALARM (signature fields left out)",
            body={
                "Type": "Notification",
                "MessageId": "2f4a1c9e-5b3d-4e8f-9a7b-1c2d3e4f5a6b",
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:tocsin",
                "Subject": 'ALARM: "orders-api-5xx" in EU (Ireland)',
                "Message": _alarm_message(
                    "ALARM",
                    name="orders-api-5xx",
                    reason="Threshold Crossed: 1 datapoint [42.0 (21/11/26 10:00:00)] was "
                    "greater than the threshold (10.0).",
                    at="2026-11-21T10:00:00.000+0000",
                ),
                "Timestamp": "2026-11-21T10:00:01.000Z",
                "SignatureVersion": "2",
                "Signature": EXAMPLE_SIGNATURE,
                "SigningCertURL": EXAMPLE_CERT_URL,
                "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
                "&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:tocsin:"
                "0b7d2c1e-8f3a-4d5b-9c6e-7a8b9c0d1e2f",
            },
        ),
    ),
    send_test=_send_test,
    docs_url="https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html",
    auth="the token in the subscription's URL (`?token=`); every message's SNS signature is "
    "checked against the certificate at its SigningCertURL (https, on an SNS host only), and "
    "the subscription is confirmed by Tocsin itself",
    maps=(
        "`NewStateValue` ALARM fires, OK resolves, INSUFFICIENT_DATA fires at level 3; "
        "`AlarmArn` → fingerprint; `severity: <word>` in `AlarmDescription` → severity; "
        "account, region, metric, dimensions → labels; the console link"
    ),
)
