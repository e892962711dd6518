"""Known secret values for the "secrets never leak" tests, and a search for them in any text.

Any test of an output surface (a log stream, an HTTP answer, a page, a Slack message, a CLI
run, an export) can run the service with :data:`SECRETS` and call :func:`leaks` on what it saw.
"""

from __future__ import annotations

import base64
import urllib.parse

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-000000000000-sEcReTbOtToKeN0001",
    "SLACK_SIGNING_SECRET": "sEcReTsIgNiNg0002aa",
    "TOCSIN_WEBHOOK_TOKEN": "sEcReTwEbHoOk0003bb",
    "OUTBOUND_TOKEN": "sEcReToUtBoUnD0004cc",
    "OUTBOUND_HMAC": "sEcReThMaC0005dd",
    "OUTBOUND_URL_KEY": "sEcReTuRlKeY0006ee",
    "DB_PASSWORD": "sEcReTdBpAsS0007ff",
    "TOCSIN_REVIEW_TOKEN": "sEcReTrEvIeW0008gg",
}


def _forms(value: str) -> set[str]:
    """The value as written, URL-encoded, base64-encoded, and its distinctive middle part."""
    return {
        value,
        urllib.parse.quote(value, safe=""),
        base64.b64encode(value.encode()).decode().rstrip("="),
        value[4:-4],
    }


def leaks(text: str) -> list[str]:
    """Names of the secrets found in ``text`` (in any of the forms above)."""
    return sorted(name for name, value in SECRETS.items() if any(f in text for f in _forms(value)))
