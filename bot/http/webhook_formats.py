"""What differs between webhook formats at the HTTP edge: where the token may be, the
Grafana and Sentry signatures, and how answers are shaped (PagerDuty and Opsgenie senders
expect their service's answers)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from fastapi.responses import JSONResponse

from config.policy import IntegrationConfig
from escalation.errors import MissingFieldsError, PayloadError

SIGNATURE_MAX_SKEW_SECONDS = 300


def is_pagerduty(config: IntegrationConfig) -> bool:
    return config.format == "pagerduty"


def is_opsgenie(config: IntegrationConfig) -> bool:
    return config.format == "opsgenie"


def is_sns(config: IntegrationConfig) -> bool:
    """Amazon SNS posts it: signed messages and a subscription handshake
    (``bot.http.intake.sns``)."""
    return config.format == "cloudwatch_sns"


def opsgenie_answer(
    status: int, fields: Mapping[str, object], *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An answer as Opsgenie's Alert API gives it: the fields, ``took`` (Tocsin does not time
    requests: always 0) and a fresh ``requestId``."""
    body = {**fields, "took": 0.0, "requestId": str(uuid.uuid4())}
    return JSONResponse(body, status_code=status, headers=headers)


def token_matches(given: str | None, config: IntegrationConfig) -> bool:
    """Constant-time comparison with the integration's token."""
    return given is not None and hmac.compare_digest(given.encode(), config.token.encode())


def body_token(config: IntegrationConfig, payload: object) -> str | None:
    """PagerDuty senders put the integration key in the body as ``routing_key``."""
    if is_pagerduty(config) and isinstance(payload, Mapping):
        key = payload.get("routing_key")
        return key if isinstance(key, str) and key else None
    return None


def signature_problem(
    config: IntegrationConfig, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> str | None:
    """Why the request's HMAC signature does not hold, or ``None`` if it does (or the
    integration has no secret). Grafana signs the body, or ``timestamp:body`` when a
    timestamp header is configured, with HMAC-SHA256 and sends the hex digest; Sentry signs
    the body with its client secret the same way (``Sentry-Hook-Signature``)."""
    if config.hmac_secret is None:
        return None
    header = config.signature_header
    given = headers.get(header)
    if not given:
        return f"missing {header} header"
    signed = body
    if config.timestamp_header is not None:
        stamp = headers.get(config.timestamp_header, "")
        if not stamp.isdigit():
            return f"missing or malformed {config.timestamp_header} header"
        if abs(now.timestamp() - int(stamp)) > SIGNATURE_MAX_SKEW_SECONDS:
            return f"{config.timestamp_header} is more than 5 minutes away from now"
        signed = stamp.encode() + b":" + body
    expected = hmac.new(config.hmac_secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        return f"wrong {header} header: the signature does not match the body"
    return None


def refused(
    config: IntegrationConfig | None,
    status: int,
    message: str,
    *,
    field: str | None = None,
    missing: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error answer in the integration's style."""
    if config is not None and is_opsgenie(config):
        answer: dict[str, object] = {"message": f"{field}: {message}" if field else message}
        if missing:
            answer["errors"] = {path: "is required" for path in missing}
        return opsgenie_answer(status, answer, headers=headers)
    if config is not None and is_pagerduty(config):
        kind = {400: "invalid event", 401: "unauthorized", 404: "not found", 413: "too large"}
        errors = [f"{path} is required" for path in missing] or [
            f"{field}: {message}" if field else message
        ]
        body: dict[str, object] = {
            "status": kind.get(status, "error"),
            "message": "Event object is invalid" if status == 400 else message,
            "errors": errors,
        }
        return JSONResponse(body, status_code=status, headers=headers)
    plain: dict[str, object] = {"error": message}
    if field is not None:
        plain["field"] = field
    if missing:
        plain["missing"] = list(missing)
    return JSONResponse(plain, status_code=status, headers=headers)


def invalid(config: IntegrationConfig, exc: PayloadError) -> JSONResponse:
    """The body does not fit the format: 422 naming the field(s); 400 for PagerDuty, as
    PagerDuty itself answers."""
    missing = exc.fields if isinstance(exc, MissingFieldsError) else ()
    status = 400 if is_pagerduty(config) else 422
    return refused(config, status, exc.problem, field=exc.field or None, missing=missing)


def accepted(
    config: IntegrationConfig, *, inbox_id: int, events: int, dedup_key: str | None
) -> JSONResponse:
    if is_pagerduty(config):
        return JSONResponse(
            {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
            status_code=202,
        )
    if is_opsgenie(config):
        return opsgenie_answer(202, {"result": "Request will be processed"})
    return JSONResponse(
        {"status": "accepted", "inbox_id": inbox_id, "alerts": events}, status_code=202
    )
