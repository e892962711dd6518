"""The policy file: the shipped example loads, and every problem names its exact place."""

from __future__ import annotations

import copy
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.durations import format_duration, parse_duration
from config.policy import DEFAULT_ROOT_CAUSES, PolicyError, load_policy, parse_policy
from config.settings import EXAMPLE_POLICY
from tests.support.policies import without_lines

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}
EXAMPLE_TEXT = EXAMPLE_POLICY.read_text(encoding="utf-8")
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)


def _doc() -> dict[str, Any]:
    """A fresh, editable copy of the shipped example."""
    return copy.deepcopy(EXAMPLE)


def _problems(doc: object, env: dict[str, str] | None = None) -> list[str]:
    text = yaml.safe_dump(doc, sort_keys=False)
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env=ENV if env is None else env)
    return without_lines(caught.value.problems)


def _text_problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env=ENV if env is None else env)
    return caught.value.problems


# --- the shipped example --------------------------------------------------------------------


def test_shipped_example_loads() -> None:
    policy = load_policy(EXAMPLE_POLICY, env=ENV)

    assert set(policy.levels) == {1, 2, 3}
    assert policy.levels[1].ack_within == 300
    assert policy.levels[1].resolve_within == 4 * 3600
    assert policy.levels[3].resolve_within is None
    assert [i.name for i in policy.integrations] == [
        "alertmanager",
        "generic",
        "grafana",
        "pagerduty",
    ]
    assert all(i.token == ENV["TOCSIN_WEBHOOK_TOKEN"] for i in policy.integrations)
    assert policy.default_route.channel == "#alerts"
    assert "ops" in policy.teams
    assert tuple(policy.root_causes) == DEFAULT_ROOT_CAUSES
    assert "default" in policy.policies


def test_shipped_example_needs_the_webhook_token_variable() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(EXAMPLE_POLICY, env={})

    assert caught.value.problems == [
        "line 18: integrations[0].token: environment variable TOCSIN_WEBHOOK_TOKEN is not set",
        "line 20: integrations[1].token: environment variable TOCSIN_WEBHOOK_TOKEN is not set",
        "line 23: integrations[2].token: environment variable TOCSIN_WEBHOOK_TOKEN is not set",
        "line 28: integrations[3].token: environment variable TOCSIN_WEBHOOK_TOKEN is not set",
    ]


def test_unreadable_file_is_a_policy_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    with pytest.raises(PolicyError) as caught:
        load_policy(missing, env=ENV)

    assert caught.value.path == missing
    assert str(missing) in str(caught.value)
    assert caught.value.problems[0].startswith("cannot read the file")


def test_error_message_lists_every_problem_under_the_path() -> None:
    doc = _doc()
    doc["bogus"] = 1
    doc["default_level"] = 9

    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(doc), env=ENV, path=Path("policy.yaml"))

    message = str(caught.value)
    assert message.startswith("policy.yaml: 2 problem(s) in the policy file:")
    assert re.search(r"\n  - line \d+: bogus: is not a known setting(\n|$)", message)
    assert re.search(r'\n  - line \d+: default_level: "9": ', message)


# --- each kind of problem, with its place ---------------------------------------------------


def test_bad_yaml_names_line_and_column() -> None:
    text = "levels:\n  1: {name: critical\n  2: {name: major}\n"

    problems = _text_problems(text)

    assert len(problems) == 1
    assert problems[0].startswith("line 3, column 4: not valid YAML (")


def test_unclosed_list_names_the_line_it_ran_out_on() -> None:
    problems = _text_problems("root_causes: [hardware,\n  capacity\n")

    assert problems[0].startswith("line 3, column 1: not valid YAML")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just words\n"], ids=["empty", "list", "str"])
def test_file_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert _text_problems(text) == ["the file must be a mapping (levels:, integrations:, …)"]


def test_missing_level_is_named() -> None:
    doc = _doc()
    del doc["levels"][2]

    assert _problems(doc) == ["levels: levels [2] are missing; define 1, 2 and 3"]


def test_missing_levels_section_is_required() -> None:
    doc = _doc()
    del doc["levels"]

    assert _problems(doc) == ["levels: is required"]


def test_level_outside_one_to_three_is_named() -> None:
    doc = _doc()
    doc["levels"][4] = {"name": "tiny"}

    problems = _problems(doc)

    assert len(problems) == 1
    assert problems[0].startswith("levels.4")
    assert "Input should be 1, 2 or 3" in problems[0]


def test_missing_required_field_in_a_list_item_names_the_index() -> None:
    doc = _doc()
    doc["routes"] = [{"team": "ops"}]

    assert _problems(doc) == ["routes[0].channel: is required"]


def test_unknown_top_level_key_is_not_a_known_setting() -> None:
    doc = _doc()
    doc["levls"] = {}

    assert _problems(doc) == ["levls: is not a known setting; did you mean levels?"]


def test_unknown_nested_key_is_not_a_known_setting() -> None:
    doc = _doc()
    doc["levels"][2]["colour"] = "red"
    doc["integrations"][1]["secret"] = "x"

    assert _problems(doc) == [
        "levels.2.colour: is not a known setting",
        "integrations[1].secret: is not a known setting",
    ]


def test_bad_duration_names_the_level_field_and_the_value() -> None:
    doc = _doc()
    doc["levels"][1]["ack_within"] = "5x"

    problems = _problems(doc)

    assert len(problems) == 1
    assert "levels.1.ack_within" in problems[0]
    assert '"5x" is not a duration' in problems[0]
    assert problems[0].startswith("levels.1.ack_within: ")


def test_negative_duration_is_refused_with_its_place() -> None:
    doc = _doc()
    doc["levels"][3]["resolve_within"] = -5

    (problem,) = _problems(doc)

    assert problem.startswith("levels.3.resolve_within: ")
    assert "negative" in problem


def test_missing_environment_variable_names_variable_and_place() -> None:
    doc = _doc()
    doc["integrations"][1]["token"] = "${GENERIC_TOKEN}"

    assert _problems(doc) == [
        "integrations[1].token: environment variable GENERIC_TOKEN is not set"
    ]


def test_environment_variable_is_expanded_inside_a_longer_string() -> None:
    doc = _doc()
    doc["integrations"][1]["token"] = "prefix-${GENERIC_TOKEN}"

    policy = parse_policy(yaml.safe_dump(doc), env={**ENV, "GENERIC_TOKEN": "abcdef"})

    assert policy.integrations[1].token == "prefix-abcdef"


def test_duplicate_integration_names_name_the_second_one() -> None:
    doc = _doc()
    doc["integrations"][1]["name"] = "alertmanager"

    assert _problems(doc) == ['integrations[1].name: "alertmanager" is defined twice']


def test_bad_integration_format_names_the_place() -> None:
    doc = _doc()
    doc["integrations"][0]["format"] = "nagios"
    text = yaml.safe_dump(doc, sort_keys=False)

    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env=ENV, formats=("alertmanager", "generic", "grafana", "pagerduty"))

    [problem] = caught.value.problems
    assert problem.startswith("line ")
    assert without_lines([problem]) == [
        'integrations[0].format: "nagios": must be one of alertmanager, generic, grafana or '
        "pagerduty"
    ]


def test_a_format_is_a_name_even_without_the_known_formats() -> None:
    doc = _doc()
    doc["integrations"][0]["format"] = "Nagios 4"

    (problem,) = _problems(doc)

    assert problem.startswith('integrations[0].format: "Nagios 4": String should match')


def test_no_integrations_is_refused() -> None:
    doc = _doc()
    doc["integrations"] = []

    (problem,) = _problems(doc)

    assert problem.startswith("integrations: ")


def test_route_to_unknown_policy_is_named() -> None:
    doc = _doc()
    doc["routes"] = [{"team": "ops", "channel": "#db", "policy": "nightly"}]

    assert _problems(doc) == ['routes[0].policy: "nightly" is not in policies']


def test_route_to_unknown_team_is_named() -> None:
    doc = _doc()
    doc["routes"] = [
        {"team": "ops", "channel": "#ops"},
        {"team": "ghosts", "channel": "#ghosts"},
    ]

    assert _problems(doc) == ['routes[1].team: "ghosts" is not in teams']


def test_default_route_to_unknown_team_and_policy_is_named() -> None:
    doc = _doc()
    doc["default_route"] = {"team": "nobody", "channel": "#alerts", "policy": "nope"}

    assert _problems(doc) == [
        'default_route.policy: "nope" is not in policies',
        'default_route.team: "nobody" is not in teams',
    ]


def test_any_team_is_accepted_when_no_teams_are_defined() -> None:
    doc = _doc()
    doc["teams"] = {}
    doc["routes"] = [{"team": "anyone", "channel": "#x"}]

    assert parse_policy(yaml.safe_dump(doc), env=ENV).routes[0].team == "anyone"


@pytest.mark.parametrize(
    "channel", ["alerts", "#Alerts", "#", "#with space", "c0123", "#alerts\n", "C012\n"]
)
def test_bad_channel_name_is_named_with_its_value(channel: str) -> None:
    doc = _doc()
    doc["routes"] = [{"team": "ops", "channel": channel}]

    (problem,) = _problems(doc)

    assert problem.startswith("routes[0].channel: ")
    assert "must be a channel name like #alerts or a channel id like C0123ABCD" in problem


@pytest.mark.parametrize("channel", ["#alerts", "#db-alerts.eu_1", "C0123ABCD", "G12", "D99"])
def test_good_channel_names_and_ids_are_accepted(channel: str) -> None:
    doc = _doc()
    doc["routes"] = [{"team": "ops", "channel": channel}]

    assert parse_policy(yaml.safe_dump(doc), env=ENV).routes[0].channel == channel


def test_bad_channel_on_default_route_is_named() -> None:
    doc = _doc()
    doc["default_route"]["channel"] = "alerts"

    (problem,) = _problems(doc)

    assert problem.startswith('default_route.channel: "alerts": must be a channel name')


@pytest.mark.parametrize("member", ["bob", "u012abcdef", "U1", "C012ABCDEF", "U012ABCDEF\n"])
def test_bad_slack_user_id_in_team_members_is_named(member: str) -> None:
    doc = _doc()
    doc["teams"]["ops"]["members"] = ["U012ABCDEF", member]

    assert _problems(doc) == [
        f'teams.ops.members: "{member}" is not a Slack user id (like U012ABCDEF) or an email '
        "address"
    ]


def test_person_keyed_by_something_other_than_a_slack_id_is_named() -> None:
    doc = _doc()
    doc["people"] = {"U012ABCDEF": {"name": "Ann"}, "bob": {"name": "Bob"}}

    assert _problems(doc) == [
        'people.bob: "bob" is not a Slack user id (like U012ABCDEF) or an email address'
    ]


def test_grading_level_out_of_range_names_the_rule() -> None:
    doc = _doc()
    doc["grading"][1]["level"] = 4

    (problem,) = _problems(doc)

    assert problem.startswith('grading[1].level: "4": ')


def test_empty_root_causes_are_refused() -> None:
    doc = _doc()
    doc["root_causes"] = []

    (problem,) = _problems(doc)

    assert problem.startswith("root_causes: ")


# --- secrets never show ---------------------------------------------------------------------

SECRET = "abc123"


def _literal_token(doc: dict[str, Any]) -> None:
    doc["integrations"][0]["token"] = SECRET


def _token_from_env(doc: dict[str, Any]) -> None:
    doc["integrations"][0]["token"] = "${SHORT_TOKEN}"


def _numeric_token(doc: dict[str, Any]) -> None:
    doc["integrations"][0]["token"] = 123


@pytest.mark.parametrize(
    "edit", [_literal_token, _token_from_env, _numeric_token], ids=lambda f: f.__name__
)
def test_bad_token_is_named_but_its_value_never_appears(
    edit: Callable[[dict[str, Any]], None],
) -> None:
    doc = _doc()
    edit(doc)
    text = yaml.safe_dump(doc)

    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env={**ENV, "SHORT_TOKEN": SECRET})

    assert without_lines(caught.value.problems)[0].startswith("integrations[0].token: ")
    shown = "".join(traceback.format_exception(caught.value))
    assert SECRET not in shown
    assert "123" not in str(caught.value)


@pytest.mark.parametrize(
    "line",
    [
        '  - {name: alertmanager, format: alertmanager, token: "abc123-secret" x}',
        "  - {name: alertmanager, format: alertmanager, token: abc123-secret: x}",
    ],
    ids=["trailing-word", "stray-colon"],
)
def test_yaml_error_on_a_token_line_never_quotes_the_token(line: str) -> None:
    text = EXAMPLE_TEXT.replace(
        '  - {name: alertmanager, format: alertmanager, token: "${TOCSIN_WEBHOOK_TOKEN}"}', line
    )
    assert text != EXAMPLE_TEXT

    with pytest.raises(PolicyError) as caught:
        parse_policy(text, env=ENV)

    assert caught.value.problems[0].startswith("line 18, column ")
    assert "abc123-secret" not in "".join(traceback.format_exception(caught.value))


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("4H", 14400),
        (" 5m ", 300),
        ("0", 0),
        ("1d2h3m4s", 93784),
        (90, 90),
        (0, 0),
    ],
)
def test_parse_duration_accepts(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "value", ["", " ", "5x", "-1", "5", "m", "1.5h", "5m5", "5 m", "1h 30m", True, False, 1.5, None]
)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


def test_parse_duration_rejects_negative_int() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_duration(-1)


def test_parse_duration_quotes_the_bad_value() -> None:
    with pytest.raises(ValueError, match=r'^"5x" is not a duration \(write it like 30s'):
        parse_duration("5x")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (30, "30s"), (300, "5m"), (5400, "1h30m"), (172800, "2d"), (93784, "1d2h3m4s")],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["30s", "5m", "1h30m", "2d", "1d2h3m4s", "0s"])
def test_duration_text_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 61, 3599, 3600, 86399, 86400, 1_000_000])
def test_duration_seconds_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# --- integrations: Grafana signature knobs ----------------------------------------------------


def _with_integration(line: str) -> str:
    return EXAMPLE_TEXT.replace("integrations:\n", f"integrations:\n{line}\n", 1)


def test_grafana_integration_takes_an_hmac_secret_and_a_timestamp_header() -> None:
    text = _with_integration(
        "  - {name: gf, format: grafana, token: tok-123456, hmac_secret: s3cret-value,"
        " timestamp_header: X-Grafana-Alerting-Timestamp}"
    )

    policy = parse_policy(text, env=ENV)

    gf = policy.integrations[0]
    assert (gf.hmac_secret, gf.signature_header, gf.timestamp_header) == (
        "s3cret-value",
        "X-Grafana-Alerting-Signature",
        "X-Grafana-Alerting-Timestamp",
    )


def test_sentry_integration_takes_its_client_secret_and_reads_sentrys_header() -> None:
    text = _with_integration(
        "  - {name: se, format: sentry, token: tok-123456, hmac_secret: s3cret-value}"
    )

    se = parse_policy(text, env=ENV).integrations[0]

    assert (se.hmac_secret, se.signature_header) == ("s3cret-value", "Sentry-Hook-Signature")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "  - {name: am, format: alertmanager, token: tok-123456, hmac_secret: s3cret-value}",
            "integrations[0]: hmac_secret applies only to formats grafana and sentry",
        ),
        (
            "  - {name: se, format: sentry, token: tok-123456, hmac_secret: s3cret-value,"
            " timestamp_header: X-Ts}",
            "integrations[0]: timestamp_header applies only to format grafana",
        ),
        (
            "  - {name: gf, format: grafana, token: tok-123456, timestamp_header: X-Ts}",
            "integrations[0]: timestamp_header needs hmac_secret",
        ),
    ],
)
def test_signature_knobs_outside_grafana_are_refused_without_quoting_the_secret(
    line: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(_with_integration(line), env=ENV)

    assert caught.value.problems == [f"line 18: {problem}"]
    assert "s3cret-value" not in str(caught.value)


def test_a_short_hmac_secret_is_named_but_never_quoted() -> None:
    line = "  - {name: gf, format: grafana, token: tok-123456, hmac_secret: abc}"

    with pytest.raises(PolicyError) as caught:
        parse_policy(_with_integration(line), env=ENV)

    assert caught.value.problems[0].startswith("line 18: integrations[0].hmac_secret: ")
    assert '"abc"' not in str(caught.value)
