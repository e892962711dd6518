"""Untrusted text never becomes live Slack syntax, and is cut to Block Kit's limits."""

from __future__ import annotations

import re

import pytest

from bot.slack.blocks.escape import ELLIPSIS, cut, link, mention, mrkdwn, plain

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123|@oncall>",
    "<@U123>",
    "<@W0ADMIN|boss>",
    "<#C123>",
    "<#C123|general>",
    "<https://evil.example|https://good.example>",
    "<javascript:alert(1)|click>",
    "a & b",
    "&lt;!channel&gt;",
    "@channel",
    "@here",
    "@everyone",
    "@Channel please",
    "ping @HERE!",
    "x@everyone",
]

# Anything Slack would read as a control sequence in mrkdwn.
LIVE_MRKDWN = re.compile(r"<[^<>]*>")
# A broadcast Slack would act on: @ directly followed by the word.
LIVE_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


@pytest.mark.parametrize("text", HOSTILE)
def test_mrkdwn_leaves_no_live_control_sequence(text: str) -> None:
    out = mrkdwn(text, 3000)

    assert "<" not in out
    assert ">" not in out
    assert not LIVE_MRKDWN.search(out)
    assert not LIVE_BROADCAST.search(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<#C123>", "&lt;#C123&gt;"),
        (
            "<https://evil|https://good>",
            "&lt;https://evil|https://good&gt;",
        ),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),
        ("@channel", "@\u2060channel"),
        ("@here now", "@\u2060here now"),
        ("@Everyone", "@\u2060Everyone"),
    ],
)
def test_mrkdwn_escapes_exactly(text: str, expected: str) -> None:
    assert mrkdwn(text, 3000) == expected


def test_mrkdwn_escapes_ampersand_before_brackets_so_entities_are_not_doubled_wrongly() -> None:
    # "&" first: "<" becomes "&lt;", not "&amp;lt;".
    assert mrkdwn("<&>", 100) == "&lt;&amp;&gt;"


def test_mrkdwn_keeps_ordinary_text_and_formatting() -> None:
    text = "*bold* _it_ `code` user@example.com @channels @hereafter"

    assert mrkdwn(text, 3000) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_defuses_broadcasts_and_control_sequences(text: str) -> None:
    out = plain(text, 3000)

    assert not LIVE_BROADCAST.search(out)
    assert not re.search(r"<[!@#]", out)


@pytest.mark.parametrize("word", ["@channel", "@here", "@everyone", "@HERE"])
def test_plain_defuses_bare_broadcast_with_a_word_joiner(word: str) -> None:
    out = plain(f"hi {word}!", 100)

    assert out == f"hi @\u2060{word[1:]}!"


def test_plain_does_not_html_escape() -> None:
    assert plain("a & b", 100) == "a & b"


# --- cutting --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", range(0, 40))
def test_cut_never_exceeds_the_limit(limit: int) -> None:
    out = cut("x" * 30, limit)

    assert len(out) <= limit
    if limit >= 30:
        assert out == "x" * 30
    elif limit > 0:
        assert out.endswith(ELLIPSIS)
        assert out == "x" * (limit - 1) + ELLIPSIS


def test_cut_leaves_short_text_alone() -> None:
    assert cut("short", 5) == "short"


@pytest.mark.parametrize("limit", range(0, 60))
def test_plain_never_exceeds_the_limit(limit: int) -> None:
    out = plain("@channel <!here> " * 5, limit)

    assert len(out) <= limit
    assert not LIVE_BROADCAST.search(out)


@pytest.mark.parametrize("limit", range(0, 80))
@pytest.mark.parametrize(
    "text", ["&&&&&&&&&&&&&&&&&&&&", "<<>>" * 8, "a<b>&c " * 6, HOSTILE[8] * 2]
)
def test_mrkdwn_cut_never_exceeds_limit_nor_leaves_half_an_entity(text: str, limit: int) -> None:
    out = mrkdwn(text, limit)

    assert len(out) <= limit
    if out.endswith(ELLIPSIS):
        body = out[: -len(ELLIPSIS)]
        # every & must start a complete entity
        assert all(
            body.startswith(("&amp;", "&lt;", "&gt;"), i) for i, ch in enumerate(body) if ch == "&"
        )
    assert "<" not in out


def test_mrkdwn_cut_drops_a_partial_entity_instead_of_leaving_am() -> None:
    out = mrkdwn("abc&def", 7)  # escaped "abc&amp;def" is 11 long

    assert out == "abc" + ELLIPSIS
    assert "&am" not in out


def test_mrkdwn_cut_keeps_a_complete_entity() -> None:
    assert mrkdwn("a&bcdef", 8) == "a&amp;b" + ELLIPSIS


# --- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "https://",
        "/relative/path",
        "https://good.example|https://evil.example",
        "https://good.example/>x",
        "https://good.example/<x",
        "https://good.example/a b",
        "https://good.example/\nx",
    ],
)
def test_link_refuses_unsafe_or_broken_urls(url: str) -> None:
    assert link(url, "Runbook") is None


def test_link_shows_the_host_beside_an_ordinary_label() -> None:
    assert (
        link("https://wiki.example.com/runbooks/disk", "Runbook")
        == "<https://wiki.example.com/runbooks/disk|Runbook (wiki.example.com)>"
    )


def test_link_shows_the_real_host_when_the_label_hides_it() -> None:
    out = link("https://evil.example/login", "https://good.example/login")

    assert out == "<https://evil.example/login|https://good.example/login (evil.example)>"


def test_link_shows_the_real_host_when_the_label_only_mentions_it_later() -> None:
    out = link("https://evil.example/x", "https://bank.example/?ref=evil.example")

    assert out is not None
    assert out.endswith("(evil.example)>")


@pytest.mark.parametrize(
    "url",
    [
        # a browser reads "\\" as "/" in http(s) URLs: this one goes to evil.example
        "https://evil.example\\@good.example/",
        "https://evil.example\\good.example/",
        "https:\\\\evil.example/",
        # userinfo: a disguise (good.example@evil.example) or a password posted to a channel
        "https://good.example@evil.example/",
        "https://user:secret@good.example/",
        "https://:@good.example/",
        # control characters a browser silently drops (good.example\t.evil is good.example.evil)
        "https://good.example\t.evil/",
        "https://good.example\r/",
        "https://good.example/\x00",
        "https://good.example/\x7f",
        "https://good.example/\u200b",
        # schemes a browser would not send to a web server
        "HTTPS:evil.example",
        "blob:https://good.example/x",
        "https://[::1",
    ],
)
def test_link_refuses_urls_a_browser_reads_differently(url: str) -> None:
    assert link(url, "good.example") is None


def test_link_shows_the_host_a_browser_would_go_to() -> None:
    # WHATWG: the host is decoded and lower-cased; an IDN is shown as the browser's punycode
    out = link("https://GOOD%2Eexample.xn--p1ai/a", "good.example")
    assert out == "<https://good.example.xn--p1ai/a|good.example (good.example.xn--p1ai)>"
    out = link("https://пример.рф/", "пример.рф")
    assert out == "<https://xn--e1afmkfd.xn--p1ai/|пример.рф (xn--e1afmkfd.xn--p1ai)>"


def test_link_posts_the_url_as_a_browser_would_send_it() -> None:
    out = link("HTTPS://Wiki.Example.com:443/a/../b?q=1#top", "wiki.example.com")
    assert out == "<https://wiki.example.com/b?q=1#top|wiki.example.com>"


@pytest.mark.parametrize(
    "label",
    ["grafana.example.com", "https://grafana.example.com/d/abc", "HTTPS://Grafana.Example.com"],
)
def test_link_label_that_is_the_real_host_stands_alone(label: str) -> None:
    assert link("https://grafana.example.com/d/abc", label) == (
        f"<https://grafana.example.com/d/abc|{label}>"
    )


def test_link_label_is_escaped() -> None:
    out = link("https://good.example/", "<!channel> & @here")

    assert out == "<https://good.example/|&lt;!channel&gt; &amp; @\u2060here (good.example)>"


# --- mentions -------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["U123", "U012ABCDEF", "W0ADMIN1"])
def test_mention_of_real_looking_user_id(user_id: str) -> None:
    assert mention(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize(
    "user_id",
    [
        "<!channel>",
        "U123>|<!channel",
        "u123",
        "U1",
        "C0123ABCD",
        "U123 ",
        "U123\n",
        "U" + "A" * 30,
        "@channel",
        "bob",
    ],
)
def test_mention_of_anything_else_is_escaped_text(user_id: str) -> None:
    out = mention(user_id)

    assert not out.startswith("<@")
    assert "<" not in out
    assert not LIVE_BROADCAST.search(out)
    assert len(out) <= 40


@pytest.mark.parametrize("user_id", [None, ""])
def test_mention_of_nobody_is_someone(user_id: str | None) -> None:
    assert mention(user_id) == "someone"
