"""Untrusted text (anything from an alert) made safe for Slack.

Escaping ``&``, ``<`` and ``>`` stops every Slack control sequence (``<!channel>``,
``<@U…>``, ``<#C…>``, ``<url|label>``); a word joiner after ``@`` in ``@channel``,
``@here`` and ``@everyone`` stops the bare forms too. Text is cut to Block Kit's limits.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def plain(text: str, limit: int) -> str:
    """For ``plain_text`` objects: Slack does not parse them, but broadcasts are defused."""
    return cut(_BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text), limit)


def mrkdwn(text: str, limit: int) -> str:
    """For ``mrkdwn`` objects: control characters escaped, then cut without splitting an
    entity."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), escaped)
    if len(escaped) <= limit:
        return escaped
    head = escaped[: max(limit - 1, 0)]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + ELLIPSIS


def mention(user_id: str | None) -> str:
    """A mention of a Slack user id we got from Slack itself; anything else is shown as text."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return mrkdwn(user_id or "someone", 40)


def link(url: str, label: str) -> str | None:
    """A mrkdwn link that shows where it really goes: ``<url|label (host)>``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if any(ch in url for ch in "<>| \n"):
        return None
    host = parts.hostname or parts.netloc
    text = mrkdwn(label, 60)
    shown = text if host in text else f"{text} ({mrkdwn(host, 60)})"
    return f"<{url.strip()}|{shown}>"
