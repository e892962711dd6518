"""The warning message and the resolve modal, pinned as golden files.

Set ``TOCSIN_UPDATE_GOLDEN=1`` to (re)write the files under ``golden/``; read the diff before
committing it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.slack import ids
from bot.slack.blocks.render import notification_text, resolve_modal, warning_blocks, within
from escalation.model import AlertView, LastResolution, LevelSpec, Link, Metric, Status

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("TOCSIN_UPDATE_GOLDEN") == "1"

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
ALICE = "U0ALICE01"
BOB = "U0BOB0002"
CAROL = "U0CAROL03"
ACTORS = {ALICE, BOB, CAROL}

CRITICAL = LevelSpec(number=1, name="critical", emoji=":red_circle:", ack_within_seconds=300)
MINOR = LevelSpec(number=3, name="minor", emoji=":large_blue_circle:")

FIRING = AlertView(
    id=42,
    fingerprint="3e14f050cfdecbbc",
    integration="alertmanager",
    source="alertmanager",
    title="Disk almost full on db-1",
    description="/var/lib/postgresql is 93% full and growing 2%/hour.",
    impact="Checkout writes fail when the disk is full.",
    suggested_actions="Rotate WAL archives; grow the volume.",
    level=CRITICAL,
    category="capacity",
    labels={"host": "db-1", "env": "prod", "service": "postgres"},
    links=(
        Link("Runbook", "https://wiki.example.com/runbooks/disk-full"),
        Link("Dashboard", "https://grafana.example.com/d/disk?var-host=db-1"),
    ),
    team="ops",
    channel="#alerts",
    status=Status.FIRING,
    fired_at=T0,
    last_seen_at=T0,
    count=1,
    acknowledged_by=None,
    acknowledged_at=None,
    owner=None,
    owner_since=None,
    assigned_by=None,
    resolved_by=None,
    resolved_at=None,
    resolved_by_source=False,
    resolution_note=None,
    root_cause=None,
)

ACKNOWLEDGED = replace(
    FIRING,
    status=Status.ACKNOWLEDGED,
    acknowledged_by=ALICE,
    acknowledged_at=T0 + timedelta(minutes=2),
    owner=BOB,
    owner_since=T0 + timedelta(minutes=5),
    assigned_by=ALICE,
)

RESOLVED_BY_PERSON = replace(
    ACKNOWLEDGED,
    status=Status.RESOLVED,
    resolved_by=BOB,
    resolved_at=T0 + timedelta(hours=1),
    resolution_note="Deleted old WAL archives and grew the volume to 500 GB.",
    root_cause="capacity",
)

RESOLVED_AT_SOURCE = replace(
    FIRING,
    status=Status.RESOLVED,
    resolved_at=T0 + timedelta(minutes=20),
    resolved_by_source=True,
)

WITH_LAST_RESOLUTION = replace(
    FIRING,
    id=43,
    level=MINOR,
    category=None,
    labels={},
    links=(),
    impact="",
    suggested_actions="",
    count=4,
    last_seen_at=T0 + timedelta(minutes=45),
    last_resolution=LastResolution(
        resolved_at=T0 - timedelta(days=3),
        resolved_by=CAROL,
        by_source=False,
        root_cause="software change",
        note="Rolled back the 2.3.1 deploy.",
    ),
)

EVIL = (
    "<!channel> <!here> <!everyone> <@U999HACK> <#C999HACK> "
    "<https://evil.example|https://good.example> & @channel @here @everyone"
)
ONE_HUNDRED_KB = (EVIL + " ") * (100_000 // (len(EVIL) + 1) + 1)

HOSTILE = replace(
    FIRING,
    id=666,
    source=EVIL,
    title=EVIL * 5,
    description=ONE_HUNDRED_KB,
    impact=EVIL * 40,
    suggested_actions=EVIL * 40,
    level=LevelSpec(number=1, name="<!channel>", emoji="<!here>"),
    category=EVIL,
    labels={f"{EVIL}-{i:02}": f"{EVIL}-{i}" for i in range(50)},
    links=(
        Link(EVIL, "https://evil.example/0"),
        Link("https://good.example", "javascript:alert(document.cookie)"),
        Link(EVIL, "data:text/html;base64,PHNjcmlwdD4="),
        Link("<!channel>", "https://evil.example/a|<!channel>"),
        Link("https://good.example/login", "https://evil.example/login"),
        *(Link(f"{EVIL} {i}", f"https://evil.example/{i}") for i in range(5, 10)),
    ),
    team=EVIL,
    status=Status.ACKNOWLEDGED,
    count=1_000_000,
    last_seen_at=T0 + timedelta(days=1),
    acknowledged_by=ALICE,
    acknowledged_at=T0 + timedelta(minutes=1),
    owner=BOB,
    owner_since=T0 + timedelta(minutes=2),
    assigned_by=CAROL,
    resolved_by=BOB,
    resolved_at=T0 + timedelta(days=2),
    resolution_note=EVIL * 100,
    root_cause=EVIL,
    last_resolution=LastResolution(
        resolved_at=T0 - timedelta(days=1),
        resolved_by=CAROL,
        by_source=False,
        root_cause=EVIL * 10,
        note=EVIL * 100,
    ),
)

ESCALATING = replace(
    FIRING, tier=0, tier_count=3, escalating=True, next_action_at=T0 + timedelta(minutes=15)
)
SNOOZED = replace(
    FIRING,
    status=Status.SNOOZED,
    tier=0,
    tier_count=3,
    snoozed_until=T0 + timedelta(hours=1),
    next_action_at=T0 + timedelta(hours=1),
)
AWAITING_APPROVAL = replace(
    FIRING,
    status=Status.AWAITING_APPROVAL,
    tier=1,
    tier_count=3,
    approval_tier=2,
    approval_requested_by=CAROL,
    next_action_at=T0 + timedelta(minutes=15),
)

METRIC = replace(
    FIRING,
    id=44,
    title="Checkout conversion dropped",
    description="",
    impact="",
    suggested_actions="",
    labels={},
    links=(),
    category="financial",
    metric=Metric("checkout_conversion", value=2.31, baseline=3.0, unit="%", window="15m"),
)

VIEWS: dict[str, AlertView] = {
    "metric": METRIC,
    "firing": FIRING,
    "escalating": ESCALATING,
    "snoozed": SNOOZED,
    "awaiting_approval": AWAITING_APPROVAL,
    "acknowledged_owned_assigned": ACKNOWLEDGED,
    "resolved_by_person": RESOLVED_BY_PERSON,
    "resolved_at_source": RESOLVED_AT_SOURCE,
    "with_last_resolution": WITH_LAST_RESOLUTION,
    "hostile": HOSTILE,
}


def _message(view: AlertView) -> dict[str, Any]:
    return {"blocks": warning_blocks(view), "text": notification_text(view)}


def _pretty(payload: object) -> str:
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_warning_message_matches_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    actual = _pretty(_message(VIEWS[name]))

    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with TOCSIN_UPDATE_GOLDEN=1 to create it"

    assert actual == path.read_text(encoding="utf-8")


def test_every_golden_file_has_a_view() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(VIEWS)


# --- structure by state ---------------------------------------------------------------------


def _action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) <= 1
    return [e["action_id"] for e in actions[0]["elements"]] if actions else []


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (FIRING, [ids.ACKNOWLEDGE, ids.CLAIM, ids.ASSIGN, ids.SNOOZE, ids.SILENCE, ids.RESOLVE]),
        (
            ESCALATING,
            [
                *(ids.ACKNOWLEDGE, ids.CLAIM, ids.ASSIGN, ids.SNOOZE),
                *(ids.ESCALATE, ids.SILENCE, ids.RESOLVE),
            ],
        ),
        (AWAITING_APPROVAL, [ids.ACKNOWLEDGE, ids.CLAIM, ids.ASSIGN, ids.RESOLVE]),
        (
            ACKNOWLEDGED,
            [ids.CLAIM, ids.ASSIGN, ids.UNACKNOWLEDGE, ids.SNOOZE, ids.SILENCE, ids.RESOLVE],
        ),
        (RESOLVED_BY_PERSON, [ids.ADD_NOTE]),
        (RESOLVED_AT_SOURCE, [ids.ADD_NOTE]),
    ],
    ids=[
        "firing",
        "escalating",
        "awaiting_approval",
        "acknowledged",
        "resolved",
        "resolved_at_source",
    ],
)
def test_buttons_depend_on_state(view: AlertView, expected: list[str]) -> None:
    assert _action_ids(warning_blocks(view)) == expected


def test_escalating_warning_shows_the_tier_paged_and_the_next_due() -> None:
    context = json.dumps(warning_blocks(ESCALATING))
    assert "Tier 1 of 3 paged" in context
    assert "tier 2 due <!date^" in context


def test_snoozed_and_awaiting_approval_say_so_in_the_status_line() -> None:
    assert "*Snoozed* until" in json.dumps(warning_blocks(SNOOZED))
    awaiting = json.dumps(warning_blocks(AWAITING_APPROVAL))
    assert "*Awaiting approval* to page tier 3" in awaiting
    assert f"<@{CAROL}>" in awaiting


def test_an_unacknowledged_warning_says_within_when_and_by_when_to_acknowledge() -> None:
    deadline = int((T0 + timedelta(minutes=5)).timestamp())
    status = warning_blocks(FIRING)[1]["text"]["text"]
    assert f"Acknowledge within 5 min — by <!date^{deadline}^" in status
    assert "|2024-05-01 12:05 UTC>" in status


@pytest.mark.parametrize(
    "view",
    [ACKNOWLEDGED, RESOLVED_BY_PERSON, replace(FIRING, level=MINOR)],
    ids=["acknowledged", "resolved", "no-ack-within"],
)
def test_no_acknowledge_deadline_once_acknowledged_or_without_one(view: AlertView) -> None:
    assert "Acknowledge within" not in json.dumps(warning_blocks(view))


@pytest.mark.parametrize(
    ("seconds", "said"), [(45, "45 s"), (300, "5 min"), (5400, "1 h 30 min"), (86400, "1 d")]
)
def test_policy_durations_are_said_in_words(seconds: int, said: str) -> None:
    assert within(seconds) == said


def test_buttons_carry_the_alert_id() -> None:
    blocks = warning_blocks(FIRING)
    (actions,) = [b for b in blocks if b["type"] == "actions"]

    assert actions["block_id"] == f"{ids.ACTIONS_BLOCK_PREFIX}42"
    assert {e.get("value") for e in actions["elements"] if e["type"] == "button"} == {"42"}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_header_has_level_emoji_and_name(name: str) -> None:
    view = VIEWS[name]
    header = warning_blocks(view)[0]

    assert header["type"] == "header"
    if view is not HOSTILE:
        assert header["text"]["text"].startswith(f"{view.level.emoji} {view.level.name.upper()}: ")


def test_notification_text_names_level_state_and_title() -> None:
    assert notification_text(FIRING) == "[critical] Disk almost full on db-1"
    assert notification_text(ACKNOWLEDGED) == "[critical] [acknowledged] Disk almost full on db-1"
    assert notification_text(RESOLVED_AT_SOURCE) == "[critical] [resolved] Disk almost full on db-1"


def test_resolved_by_person_shows_who_note_and_root_cause() -> None:
    text = json.dumps(warning_blocks(RESOLVED_BY_PERSON), ensure_ascii=False)

    assert f"*Resolved* by <@{BOB}>" in text
    assert "root cause: *capacity*" in text
    assert "*What was done*\\nDeleted old WAL archives" in text


def test_resolved_at_source_names_the_source_and_no_person() -> None:
    text = json.dumps(warning_blocks(RESOLVED_AT_SOURCE), ensure_ascii=False)

    assert "*Resolved* by the source" in text
    assert "<@" not in text


def test_acknowledged_shows_acknowledger_owner_and_assigner() -> None:
    status = warning_blocks(ACKNOWLEDGED)[1]["text"]["text"]

    assert status.startswith(f":eyes: *Acknowledged* by <@{ALICE}> <!date^")
    assert f"owner <@{BOB}> since <!date^" in status
    assert status.endswith(f"(assigned by <@{ALICE}>)")


def test_last_resolution_and_repeat_count_are_shown() -> None:
    text = json.dumps(warning_blocks(WITH_LAST_RESOLUTION), ensure_ascii=False)

    assert "Fired 4 times · last seen <!date^" in text
    assert f"*Last time* (<!date^{int((T0 - timedelta(days=3)).timestamp())}^" in text
    assert f"resolved by <@{CAROL}> · root cause: software change" in text
    assert "“Rolled back the 2.3.1 deploy.”" in text


# --- hostile input --------------------------------------------------------------------------

HOSTILE_BY_STATE = {
    "firing": replace(HOSTILE, status=Status.FIRING),
    "acknowledged": HOSTILE,
    "resolved": replace(HOSTILE, status=Status.RESOLVED),
    "resolved_at_source": replace(HOSTILE, status=Status.RESOLVED, resolved_by_source=True),
}


def _texts(node: object) -> list[tuple[str, str]]:
    """Every (type, text) of a text object anywhere in ``node``."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            found.append((node["type"], node["text"]))
        for value in node.values():
            found += _texts(value)
    elif isinstance(node, list):
        for item in node:
            found += _texts(item)
    return found


@pytest.mark.parametrize("state", sorted(HOSTILE_BY_STATE))
def test_hostile_alert_leaves_no_live_slack_syntax(state: str) -> None:
    serialised = _pretty(_message(HOSTILE_BY_STATE[state]))

    for forbidden in ("<!channel>", "<!here>", "<!everyone>", "<#C", "javascript:", "data:"):
        assert forbidden not in serialised
    assert not re.search(r"@(channel|here|everyone)\b", serialised, re.IGNORECASE)
    assert set(re.findall(r"<@([^>|]*)", serialised)) <= ACTORS
    # Every remaining control sequence is one we wrote: a date, an actor, or a safe link
    # (a "<" followed by a word joiner is plain text defused by escape.plain).
    for sequence in re.findall(r"<(?!\u2060)[^<>]*>", serialised):
        assert re.fullmatch(
            r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>"
            r"|<@U0[A-Z0-9]+>"
            r"|<https://evil\.example/[^|<> ]*\|[^<>]*\(evil\.example\)>",
            sequence,
        ), sequence


@pytest.mark.parametrize("state", sorted(HOSTILE_BY_STATE))
def test_hostile_alert_stays_within_block_kit_limits(state: str) -> None:
    message = _message(HOSTILE_BY_STATE[state])
    blocks = message["blocks"]

    assert len(blocks) <= 50
    assert len(message["text"]) <= 3000
    assert blocks[0]["type"] == "header"
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    assert all(text for _, text in _texts(blocks))


def test_hostile_alert_shows_at_most_eight_labels_and_counts_the_rest() -> None:
    text = json.dumps(warning_blocks(HOSTILE), ensure_ascii=False)

    assert "+42 more" in text


def test_hostile_links_drop_unsafe_urls_and_show_the_real_host() -> None:
    blocks = warning_blocks(HOSTILE)
    links = [t for _, t in _texts(blocks) if t.startswith("<https://")]

    assert len(links) == 1
    shown = re.findall(r"<(https://[^|]*)\|", links[0])
    # Only the first five links are considered; javascript:, data: and "|" ones are dropped.
    assert shown == ["https://evil.example/0", "https://evil.example/login"]
    assert "https://good.example/login (evil.example)>" in links[0]


# --- the resolve modal ----------------------------------------------------------------------

ROOT_CAUSES = ("hardware", "software change", "capacity", "<!channel>")


def test_resolve_modal_lists_the_root_causes_given() -> None:
    modal = resolve_modal(FIRING, root_causes=ROOT_CAUSES)

    (select,) = [
        b["element"] for b in modal["blocks"] if b.get("block_id") == ids.RESOLVE_CAUSE_BLOCK
    ]
    assert select["action_id"] == ids.RESOLVE_CAUSE_ACTION
    assert [o["value"] for o in select["options"]] == list(ROOT_CAUSES)
    assert [o["text"]["text"] for o in select["options"]][:3] == list(ROOT_CAUSES[:3])
    assert "<!channel>" not in json.dumps(select, ensure_ascii=False).replace(
        '"value": "<!channel>"', ""
    )


def test_resolve_modal_carries_the_alert_id_and_callback() -> None:
    modal = resolve_modal(FIRING, root_causes=ROOT_CAUSES)

    assert modal["type"] == "modal"
    assert modal["private_metadata"] == "42"
    assert modal["callback_id"] == ids.RESOLVE_MODAL
    note = [b for b in modal["blocks"] if b.get("block_id") == ids.RESOLVE_NOTE_BLOCK]
    assert note[0]["element"]["action_id"] == ids.RESOLVE_NOTE_ACTION
    assert note[0]["element"]["multiline"] is True


def test_resolve_modal_for_hostile_alert_is_defused_and_within_limits() -> None:
    modal = resolve_modal(HOSTILE, root_causes=ROOT_CAUSES[:3])
    serialised = json.dumps(modal, ensure_ascii=False)

    assert "<!channel>" not in serialised
    assert "<@U999HACK>" not in serialised
    assert modal["private_metadata"] == "666"
    assert all(len(text) <= 3000 for _, text in _texts(modal["blocks"]))


# --- metric alerts and mirrors --------------------------------------------------------------


def test_metric_warning_shows_value_baseline_and_deviation() -> None:
    text = json.dumps(warning_blocks(METRIC))

    assert "value *2.31* %" in text
    assert "baseline 3 %" in text
    assert "deviation *23% below*" in text
    assert "over 15m" in text


def test_metric_without_baseline_shows_the_threshold_it_crossed() -> None:
    view = replace(METRIC, metric=Metric("latency_p99", value=150.0, threshold=100.0, unit="ms"))
    text = json.dumps(warning_blocks(view))

    assert "threshold 100 ms" in text
    assert "deviation *50% above*" in text


def test_metric_fields_from_the_source_are_escaped() -> None:
    view = replace(METRIC, metric=Metric(EVIL, value=1.0, baseline=2.0, unit=EVIL, window=EVIL))
    text = json.dumps(warning_blocks(view))

    assert "<!channel>" not in text
    assert "<@U999HACK>" not in text


def test_alert_without_metric_has_no_metric_line() -> None:
    assert "*Metric*" not in json.dumps(warning_blocks(FIRING))


def test_mirrored_copy_names_the_alerts_own_channel_and_keeps_its_buttons() -> None:
    blocks = warning_blocks(FIRING, mirror=True)

    assert "Copy of the warning in #alerts" in json.dumps(blocks)
    assert _action_ids(blocks) == _action_ids(warning_blocks(FIRING))
    assert "Copy of the warning" not in json.dumps(warning_blocks(FIRING))
