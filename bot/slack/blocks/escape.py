"""Untrusted text (anything from an alert) made safe for Slack.

Escaping ``&``, ``<`` and ``>`` stops every Slack control sequence (``<!channel>``,
``<@U…>``, ``<#C…>``, ``<url|label>``) in mrkdwn; a word joiner after ``@`` in ``@channel``,
``@here`` and ``@everyone`` stops the bare forms too. Text is cut to Block Kit's limits.
"""

from __future__ import annotations

import re

from bot.slack.blocks.urls import browser_url

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}\Z")
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS if limit > 0 else ""


def plain(text: str, limit: int) -> str:
    """For ``plain_text`` objects. Slack shows them as written, but to be safe wherever the
    text ends up (notifications, copies) a word joiner follows every ``<`` and the ``@`` of
    broadcasts, so nothing in it can ever be read as a mention or a link."""
    defused = text.replace("<", "<" + _WORD_JOINER)
    return cut(_BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), defused), limit)


def mrkdwn(text: str, limit: int) -> str:
    """For ``mrkdwn`` objects: control characters escaped, then cut without splitting an
    entity."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), escaped)
    if len(escaped) <= limit:
        return escaped
    if limit < 1:
        return ""
    head = escaped[: limit - 1]
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
    """A mrkdwn link that shows where it really goes: ``<url|label (host)>``, or ``None`` for a
    URL a browser might read differently from how it looks (bot.slack.blocks.urls)."""
    found = browser_url(url)
    if found is None:
        return None
    href, host = found
    text = mrkdwn(label, 60)
    # The label may stand alone only when it starts with the real host (``host`` or
    # ``https://host/…``); a host merely mentioned somewhere in the label proves nothing.
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text.lower())
    names_host = bare == host or bare.startswith(tuple(host + c for c in "/:?#"))
    shown = text if names_host else f"{text} ({mrkdwn(host, 60)})"
    return f"<{href}|{shown}>"
