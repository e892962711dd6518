"""Amazon SNS's HTTPS endpoint protocol, for integrations of format ``cloudwatch_sns``.

Every message SNS posts is signed: ``Signature`` is the base64 RSA signature (PKCS #1 v1.5;
``SignatureVersion`` 1 with SHA-1, 2 with SHA-256) of a canonical text of the message's
fields, made with the key of the X.509 certificate at ``SigningCertURL``. That URL must be
``https`` on an SNS host (``sns.<region>.amazonaws.com``, or ``.amazonaws.com.cn``) and end
in ``.pem``; anything else is refused before anything is fetched. Certificates are cached by
URL. A ``SubscriptionConfirmation`` is confirmed by fetching its ``SubscribeURL`` (held to the
same hosts); an ``UnsubscribeConfirmation`` is logged and ignored; only a ``Notification``
goes on to be stored. See
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

The HTTP client is a field: tests give one whose transport is a fake SNS; the host checks
are made before the client is used, whatever client it is.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

log = structlog.get_logger("tocsin.sns")

TYPE_HEADER = "x-amz-sns-message-type"
MESSAGE_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?", re.ASCII)
"""An SNS endpoint host: ``sns.<region>.amazonaws.com`` (``.com.cn`` in China)."""
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SIGNED_FIELDS["SubscriptionConfirmation"]
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERTIFICATES = 64
MAX_CERTIFICATE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class SnsRefusal:
    """Why a message is refused: the HTTP status and what to tell the sender."""

    status: int
    message: str
    reason: str
    """The metric reason (``bad_signature``, ``bad_body``, ``unavailable``)."""


@dataclass(frozen=True, slots=True)
class SnsAnswer:
    """A message answered here and never stored (a subscription's confirmation)."""

    status: int
    body: Mapping[str, str]


def string_to_sign(message: Mapping[str, object]) -> bytes:
    """The canonical text SNS signs: for each signed field of the message's type, in that
    order, ``name\\nvalue\\n``; ``Subject`` only when the notification has one."""
    kind = str(message["Type"])
    lines = []
    for name in _SIGNED_FIELDS[kind]:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


def sns_url_problem(url: object, *, name: str, pem: bool = False) -> str | None:
    """Why ``url`` is not an https URL on an SNS host (ending in ``.pem`` if ``pem``), or
    ``None``."""
    if not isinstance(url, str) or not url:
        return f"{name} is required"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{name} is not a URL"
    host = parts.hostname or ""
    if (
        parts.scheme != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or not SNS_HOST.fullmatch(host)
    ):
        return f"{name} must be an https URL on an SNS host (sns.<region>.amazonaws.com)"
    if pem and not parts.path.endswith(".pem"):
        return f"{name} must name a .pem certificate"
    return None


@dataclass
class SnsEndpoint:
    """Checks SNS messages and answers their handshake; one per service (its certificate
    cache is shared by every ``cloudwatch_sns`` integration)."""

    client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=10, follow_redirects=False)
    )
    _certificates: dict[str, rsa.RSAPublicKey] = field(default_factory=dict, init=False, repr=False)

    async def check(self, message: object, headers: Mapping[str, str]) -> SnsRefusal | None:
        """Why a message is not a genuine SNS message, or ``None`` if it is."""
        if not isinstance(message, Mapping):
            return SnsRefusal(400, "an SNS message must be a JSON object", "bad_body")
        kind = message.get("Type")
        if kind not in MESSAGE_TYPES:
            return SnsRefusal(
                400, f"Type must be one of {', '.join(MESSAGE_TYPES)} (an SNS message)", "bad_body"
            )
        said = headers.get(TYPE_HEADER)  # SNS always sends it; Type is what is signed
        if said is not None and said != kind:
            return SnsRefusal(
                400, f"{TYPE_HEADER} header says {said[:40]!r}, Type {kind}", "bad_body"
            )
        for name in _SIGNED_FIELDS[str(kind)]:
            value = message.get(name)
            if name != "Subject" and not isinstance(value, str):
                return SnsRefusal(400, f"{name} must be a string (a signed field)", "bad_body")
            if name == "Subject" and value is not None and not isinstance(value, str):
                return SnsRefusal(400, "Subject must be a string (a signed field)", "bad_body")
        version = message.get("SignatureVersion")
        algorithm = _HASHES.get(version) if isinstance(version, str) else None
        if algorithm is None:
            return SnsRefusal(401, 'SignatureVersion must be "1" or "2"', "bad_signature")
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except (binascii.Error, ValueError):
            signature = b""
        if not signature:
            return SnsRefusal(401, "Signature is missing or not base64", "bad_signature")
        url = message.get("SigningCertURL")
        bad_url = sns_url_problem(url, name="SigningCertURL", pem=True)
        if bad_url is not None:
            return SnsRefusal(401, bad_url, "bad_signature")
        assert isinstance(url, str)
        key = await self._key(url)
        if isinstance(key, SnsRefusal):
            return key
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            return SnsRefusal(
                401, "Signature does not match the message (SNS signature check)", "bad_signature"
            )
        return None

    async def answer(self, message: Mapping[str, object], *, integration: str) -> SnsAnswer | None:
        """What to answer a checked message that is not a notification (``None`` for a
        notification: it is stored)."""
        kind = message["Type"]
        topic = str(message.get("TopicArn"))
        if kind == "UnsubscribeConfirmation":
            log.info("sns_unsubscribed", integration=integration, topic=topic)
            return SnsAnswer(200, {"status": "ignored", "topic": topic})
        if kind != "SubscriptionConfirmation":
            return None
        url = message.get("SubscribeURL")
        bad_url = sns_url_problem(url, name="SubscribeURL")
        if bad_url is not None:
            return SnsAnswer(400, {"error": bad_url, "field": "SubscribeURL"})
        assert isinstance(url, str)
        try:
            confirmed = await self.client.get(url)
        except httpx.HTTPError as exc:
            log.warning("sns_subscribe_failed", integration=integration, error=type(exc).__name__)
            return SnsAnswer(503, {"error": "could not confirm the subscription; retry"})
        if not confirmed.is_success:
            log.warning(
                "sns_subscribe_failed", integration=integration, status=confirmed.status_code
            )
            return SnsAnswer(
                502, {"error": f"SNS answered the SubscribeURL with {confirmed.status_code}"}
            )
        log.info("sns_subscribed", integration=integration, topic=topic)
        return SnsAnswer(200, {"status": "subscribed", "topic": topic})

    async def _key(self, url: str) -> rsa.RSAPublicKey | SnsRefusal:
        """The RSA key of the certificate at ``url`` (cached)."""
        cached = self._certificates.get(url)
        if cached is not None:
            return cached
        try:
            fetched = await self.client.get(url)
        except httpx.HTTPError as exc:
            log.warning("sns_certificate_unavailable", url=url, error=type(exc).__name__)
            return SnsRefusal(503, "could not fetch the SNS signing certificate", "unavailable")
        if fetched.status_code >= 500:
            log.warning("sns_certificate_unavailable", url=url, status=fetched.status_code)
            return SnsRefusal(503, "could not fetch the SNS signing certificate", "unavailable")
        if not fetched.is_success or len(fetched.content) > MAX_CERTIFICATE_BYTES:
            log.warning("sns_certificate_refused", url=url, status=fetched.status_code)
            return SnsRefusal(
                401,
                f"no certificate at SigningCertURL (HTTP {fetched.status_code})",
                "bad_signature",
            )
        try:
            key = x509.load_pem_x509_certificate(fetched.content).public_key()
        except ValueError:
            return SnsRefusal(401, "SigningCertURL holds no PEM certificate", "bad_signature")
        if not isinstance(key, rsa.RSAPublicKey):
            return SnsRefusal(401, "the SNS signing certificate's key is not RSA", "bad_signature")
        if len(self._certificates) >= MAX_CERTIFICATES:
            self._certificates.pop(next(iter(self._certificates)))
        self._certificates[url] = key
        return key
