"""Amazon SNS's signatures and handshake (bot.http.intake.sns), against a fake SNS whose
certificate and key are made in the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.http.intake.sns import SnsEndpoint, string_to_sign
from tests.support.sns import CERT_URL, SUBSCRIBE_URL, FakeSns, Signer, make_signer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cloudwatch_sns"
NOTIFICATION = "Notification"


def envelope(name: str) -> dict[str, Any]:
    """A fixture without its placeholder signature fields."""
    found = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    for key in ("SignatureVersion", "Signature", "SigningCertURL"):
        found.pop(key, None)
    return dict(found)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return make_signer()


@pytest.fixture
def sns(signer: Signer) -> FakeSns:
    fake = FakeSns()
    fake.certificates[CERT_URL] = signer.certificate_pem
    return fake


@pytest.fixture
def endpoint(sns: FakeSns) -> SnsEndpoint:
    return sns.endpoint()


def headers(message: dict[str, Any]) -> dict[str, str]:
    return {"x-amz-sns-message-type": str(message["Type"])}


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_notification_signed_as_sns_signs_is_genuine(
    endpoint: SnsEndpoint, signer: Signer, version: str
) -> None:
    message = signer.sign(envelope("alarm.json"), version=version)

    assert await endpoint.check(message, headers(message)) is None
    assert await endpoint.answer(message, integration="aws") is None  # stored, not answered


async def test_the_certificate_is_fetched_once_per_url(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    for name in ("alarm.json", "ok.json", "insufficient_data.json"):
        message = signer.sign(envelope(name))
        assert await endpoint.check(message, headers(message)) is None

    assert sns.fetched == [CERT_URL]


async def test_a_missing_signature_is_refused(endpoint: SnsEndpoint) -> None:
    message = {**envelope("alarm.json"), "SignatureVersion": "1", "SigningCertURL": CERT_URL}

    refusal = await endpoint.check(message, headers(message))

    assert refusal is not None
    assert (refusal.status, refusal.message) == (401, "Signature is missing or not base64")


async def test_a_signature_by_another_key_is_refused(endpoint: SnsEndpoint) -> None:
    message = make_signer().sign(envelope("alarm.json"))

    refusal = await endpoint.check(message, headers(message))

    assert refusal is not None
    assert refusal.status == 401
    assert "Signature does not match the message" in refusal.message


@pytest.mark.parametrize(
    ("field", "value"),
    [("Message", '{"AlarmName": "other"}'), ("Subject", "OK: all fine"), ("TopicArn", "arn:x")],
)
async def test_a_tampered_message_is_refused(
    endpoint: SnsEndpoint, signer: Signer, field: str, value: str
) -> None:
    message = {**signer.sign(envelope("alarm.json")), field: value}

    refusal = await endpoint.check(message, headers(message))

    assert refusal is not None
    assert refusal.status == 401
    assert "does not match" in refusal.message


async def test_a_version_one_signature_claimed_as_version_two_is_refused(
    endpoint: SnsEndpoint, signer: Signer
) -> None:
    message = {**signer.sign(envelope("alarm.json"), version="1"), "SignatureVersion": "2"}

    refusal = await endpoint.check(message, headers(message))

    assert refusal is not None
    assert refusal.status == 401


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.txt",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
        "not a url at all",
    ],
)
async def test_a_certificate_off_the_sns_hosts_is_refused_unfetched(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns, url: str
) -> None:
    message = signer.sign(envelope("alarm.json"), cert_url=url)
    sns.certificates[url] = signer.certificate_pem

    refusal = await endpoint.check(message, headers(message))

    assert refusal is not None
    assert refusal.status == 401
    assert refusal.message.startswith("SigningCertURL must")
    assert sns.fetched == []


async def test_a_china_region_certificate_url_is_an_sns_host(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    url = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem"
    sns.certificates[url] = signer.certificate_pem
    message = signer.sign(envelope("metric_math_china.json"), cert_url=url)

    assert await endpoint.check(message, headers(message)) is None


async def test_no_certificate_at_the_url_is_refused_and_sns_down_is_retried(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    absent = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-none.pem"
    message = signer.sign(envelope("alarm.json"), cert_url=absent)

    refusal = await endpoint.check(message, headers(message))
    assert refusal is not None
    assert (refusal.status, refusal.message) == (
        401,
        "no certificate at SigningCertURL (HTTP 404)",
    )

    down = FakeSns(down=True)
    refusal = await down.endpoint().check(signer.sign(envelope("alarm.json")), {})
    assert refusal is not None
    assert (refusal.status, refusal.reason) == (503, "unavailable")


async def test_a_header_that_contradicts_the_type_is_refused(
    endpoint: SnsEndpoint, signer: Signer
) -> None:
    message = signer.sign(envelope("alarm.json"))

    refusal = await endpoint.check(message, {"x-amz-sns-message-type": "SubscriptionConfirmation"})

    assert refusal is not None
    assert refusal.status == 400
    assert "x-amz-sns-message-type header says" in refusal.message


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"Type": "Publish"}, "Type must be one of"),
        ({"Type": "Notification", "Message": 3}, "Message must be a string"),
        ({"Type": "Notification", "Message": "{}", "MessageId": "1"}, "Timestamp must be"),
    ],
)
async def test_a_malformed_envelope_is_refused_naming_the_field(
    endpoint: SnsEndpoint, message: dict[str, Any], problem: str
) -> None:
    refusal = await endpoint.check(message, {})

    assert refusal is not None
    assert refusal.status == 400
    assert problem in refusal.message


async def test_a_subscription_is_confirmed_by_fetching_its_subscribe_url(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    message = signer.sign(
        {**envelope("subscription_confirmation.json"), "SubscribeURL": SUBSCRIBE_URL}
    )

    assert await endpoint.check(message, headers(message)) is None
    answer = await endpoint.answer(message, integration="aws")

    assert answer is not None
    assert answer.status == 200
    assert answer.body == {
        "status": "subscribed",
        "topic": "arn:aws:sns:us-east-1:123456789012:ops-alarms",
    }
    assert sns.confirmed == [SUBSCRIBE_URL]


async def test_a_subscribe_url_off_the_sns_hosts_is_never_fetched(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    evil = "https://evil.example/?Action=ConfirmSubscription"
    message = signer.sign({**envelope("subscription_confirmation.json"), "SubscribeURL": evil})

    assert await endpoint.check(message, headers(message)) is None
    answer = await endpoint.answer(message, integration="aws")

    assert answer is not None
    assert answer.status == 400
    assert answer.body["error"].startswith("SubscribeURL must be an https URL on an SNS host")
    assert sns.fetched == [CERT_URL]


async def test_a_refused_confirmation_is_a_5xx_so_sns_retries(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    sns.subscribe_status = 403
    message = signer.sign(
        {**envelope("subscription_confirmation.json"), "SubscribeURL": SUBSCRIBE_URL}
    )

    answer = await endpoint.answer(message, integration="aws")

    assert answer is not None
    assert answer.status == 502


async def test_an_unsubscribe_confirmation_is_logged_and_ignored(
    endpoint: SnsEndpoint, signer: Signer, sns: FakeSns
) -> None:
    message = signer.sign(envelope("unsubscribe_confirmation.json"))

    assert await endpoint.check(message, headers(message)) is None
    answer = await endpoint.answer(message, integration="aws")

    assert answer is not None
    assert (answer.status, answer.body["status"]) == (200, "ignored")
    assert sns.confirmed == []


def test_the_string_to_sign_leaves_out_an_absent_subject_and_keeps_the_order() -> None:
    message = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "t",
        "Message": "body",
        "Timestamp": "2026-11-21T10:00:00.000Z",
        "Signature": "ignored",
    }

    assert string_to_sign(message) == (
        b"Message\nbody\nMessageId\nm\nTimestamp\n2026-11-21T10:00:00.000Z\nTopicArn\nt\n"
        b"Type\nNotification\n"
    )
    assert b"Subject\nS\nTimestamp" in string_to_sign({**message, "Subject": "S"})
