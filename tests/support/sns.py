"""A fake Amazon SNS for tests: signing certificates served at SNS URLs, subscription
confirmations recorded, and messages signed as SNS signs them (a key made in the test).

Every service the harness runs has one (``tests.support.harness``), serving
:data:`EXAMPLE_CERTIFICATE` at the URL the ``cloudwatch_sns`` source's documented example
names, so that example is accepted as a genuine SNS message. That certificate's key was
thrown away once the example was signed; to change the example, make a key and certificate
with :func:`make_signer`, sign the example with it, and replace both the signature in
escalation/sources/cloudwatch_sns.py and the certificate here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from bot.http.intake.sns import SnsEndpoint, string_to_sign
from escalation.sources.cloudwatch_sns import EXAMPLE_CERT_URL

EXAMPLE_CERTIFICATE = b"""-----BEGIN CERTIFICATE-----
MIIC3TCCAcWgAwIBAgIBATANBgkqhkiG9w0BAQsFADAyMTAwLgYDVQQDDCdzbnMu
YW1hem9uYXdzLmNvbSAoVG9jc2luIHRlc3QgZXhhbXBsZSkwHhcNMjYwMTAxMDAw
MDAwWhcNMzUxMjMwMDAwMDAwWjAyMTAwLgYDVQQDDCdzbnMuYW1hem9uYXdzLmNv
bSAoVG9jc2luIHRlc3QgZXhhbXBsZSkwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw
ggEKAoIBAQDq9JZZJhb/t0T03yRRB3N/qllwb+8jUo7OYlINfd3TYI2rO9LeLypI
mgTfr8Sv2VAe0PsYbvOjxLJ3K6Zqugcl4UX3o2oucqb4Mg4kWmH1j0iW1sMiJpMn
DhmNwvfPHnl0kCyhsVdfDhGrBx5J7juagcfrXsag7gKWjL+At65gF7v2Sx6VWu12
OA8TFqrt99oJV4MT4h/vzCvSHxMOgbL3GWOkoCqzsp52bYiaGRLL/185r+yirs83
OCCd7zyxpwPH2nv7C1lOZLQtVtvL/f7WabckIwIR3ylLRsOF+gY7V4k0Dnxv6nZV
VOf47KL/1T8/Su0T6GYvT0S3X9Otb8FrAgMBAAEwDQYJKoZIhvcNAQELBQADggEB
AKIiUQ1deI2+V1AjgCBk7++VJ/TTMh4c4nV0diZn/7j13JzjWECz4sViWthzRZ1j
zuskkP+cG0D/dWf9P0lPBPU+vEB+u4yrJgfR5qVdRnYbkv2RmLjsV+h0CHAO1dCM
ZPXRZgcKrXNHPWDNdyY6h1CXP7BusNJPV6LxDFDwmYEpr4hN8hwtvotDdS/ONICn
qigOyd44a5avjFF1Zw6pXAAljOpFWuvrsp03xONkp7S4xggoZvneJAgb3PDCfiK7
x/BW9YXsdSyQoLdTFz6ik89MFywjWv+cg5TwjcBhVlPsR4jKUiYJx+B0Bm3RXH8D
d4OFCc2fXoO+fFTINXZt1c8=
-----END CERTIFICATE-----
"""
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
SUBSCRIBE_URL = (
    "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
    "&TopicArn=arn:aws:sns:eu-west-1:123456789012:tocsin&Token=2336412f37fb687f5d51e6e2425"
)


@dataclass
class Signer:
    """A key and its self-signed certificate, standing in for SNS's."""

    key: rsa.RSAPrivateKey
    certificate_pem: bytes

    def sign(
        self, message: Mapping[str, Any], *, version: str = "2", cert_url: str = CERT_URL
    ) -> dict[str, Any]:
        """``message`` with SignatureVersion, SigningCertURL and Signature, as SNS sends it."""
        signed = {**message, "SignatureVersion": version, "SigningCertURL": cert_url}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
        signature = self.key.sign(string_to_sign(signed), padding.PKCS1v15(), algorithm)
        signed["Signature"] = base64.b64encode(signature).decode()
        return signed


def make_signer(common_name: str = "sns.amazonaws.com") -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.now(UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Signer(key, certificate.public_bytes(serialization.Encoding.PEM))


@dataclass
class FakeSns:
    """SNS's side of the HTTP: what it serves at certificate URLs, which SubscribeURLs were
    fetched. Its client reaches nothing else."""

    certificates: dict[str, bytes] = field(
        default_factory=lambda: {EXAMPLE_CERT_URL: EXAMPLE_CERTIFICATE}
    )
    fetched: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    subscribe_status: int = 200
    down: bool = False
    """Every request answered 503."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.fetched.append(url)
        if self.down:
            return httpx.Response(503, text="ServiceUnavailable")
        if "Action=ConfirmSubscription" in url:
            self.confirmed.append(url)
            return httpx.Response(self.subscribe_status, text="<ConfirmSubscriptionResponse/>")
        found = self.certificates.get(url)
        if found is None:
            return httpx.Response(404, text="NoSuchKey")
        return httpx.Response(200, content=found)

    def endpoint(self) -> SnsEndpoint:
        return SnsEndpoint(client=httpx.AsyncClient(transport=httpx.MockTransport(self.handle)))
