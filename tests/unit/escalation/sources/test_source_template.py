"""``format: template``: an integration's mapping turns any JSON body into alerts — firing
and resolved, many in one body, a 422 naming the mapping's field when the body lacks what
it reads — and the sandbox keeps templates away from Python and bounded."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import PayloadError
from escalation.model import Link, SourceStatus
from escalation.sources._template import (
    LIMITS,
    TemplateSpecError,
    compile_spec,
    spec_from_mapping,
)
from escalation.sources._template_engine import MAX_SOURCE_CHARS
from escalation.sources.template import EXAMPLE_MAPPING, SOURCE, check_source, integration_parser
from tests.support.fuzz import fuzz, json_values, ran

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "template"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parser(**mapping: Any) -> Any:
    return integration_parser(mapping, integration="checks")


def refusal(parse: Any, body: object) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse(body)
    return caught.value


def test_a_monitor_down_fires_with_everything_the_mapping_names() -> None:
    payload = load("down.json")
    before = copy.deepcopy(payload)

    (event,) = integration_parser(EXAMPLE_MAPPING, integration="checks")(payload)

    assert payload == before
    assert event.status is SourceStatus.FIRING
    assert event.title == "Checkout API is down"
    assert event.fingerprint == "template:monitor-778"
    assert event.severity == "critical"
    assert event.description == "HTTP 503 from https://shop.example.com/api/health"
    assert event.labels == {"monitor": "Checkout API", "account": "acme"}
    assert event.links == (Link("Dashboard", "https://status.example.com/monitors/778"),)
    assert event.group_key == "acme"
    assert event.source == "checks"


def test_the_same_monitor_up_resolves_the_alert_of_the_same_fingerprint() -> None:
    (down,) = SOURCE.parse(load("down.json"))
    (up,) = SOURCE.parse(load("up.json"))

    assert up.status is SourceStatus.RESOLVED
    assert up.fingerprint == down.fingerprint
    assert up.title == "Checkout API is up"


def test_many_alerts_in_one_body_each_mapped_and_optional_nulls_left_out() -> None:
    events = SOURCE.parse(load("many.json"))

    assert [(e.title, e.status) for e in events] == [
        ("Checkout API is up", SourceStatus.RESOLVED),
        ("Search is down", SourceStatus.FIRING),
        ("Login is down", SourceStatus.FIRING),
    ]
    assert [e.fingerprint for e in events] == [f"template:monitor-{n}" for n in (778, 779, 780)]
    assert events[2].links == ()  # its dashboard is null: the link is left out
    assert events[2].description == ""
    assert events[2].severity is None


def test_a_missing_field_is_a_payload_error_naming_the_template_field_and_the_alert() -> None:
    error = refusal(SOURCE.parse, load("missing_name.json"))

    assert error.field == "template.title (alerts[0])"
    assert "has no attribute 'name'" in error.problem


def test_a_body_without_the_list_names_the_alerts_expression() -> None:
    error = refusal(SOURCE.parse, load("no_monitors.json"))

    assert error.field == "template.alerts"
    assert "monitors" in error.problem


def test_a_list_expression_giving_no_list_is_refused_saying_what_it_gave() -> None:
    error = refusal(SOURCE.parse, {"account": "acme", "monitors": {"id": 1}})

    assert (error.field, error.problem) == (
        "template.alerts",
        "must give a list of alerts, gave object",
    )


def test_without_alerts_the_body_is_one_alert_and_its_fields_are_dotted_names() -> None:
    parse = parser(
        title="{{ alert.check }} failed on {{ body.host }}",
        resolved_when="alert.items | length == 0",
        labels={"host": "{{ alert.host }}", "zone": "{{ alert.zone | default('') }}"},
    )

    (firing,) = parse({"check": "disk", "host": "db1", "items": ["/var"]})
    (resolved,) = parse({"check": "disk", "host": "db1", "items": []})

    assert firing.title == "disk failed on db1"
    assert firing.status is SourceStatus.FIRING
    assert resolved.status is SourceStatus.RESOLVED
    assert firing.labels == {"host": "db1"}  # a label rendering empty is left out
    assert firing.fingerprint == resolved.fingerprint  # derived from title and labels


def test_a_level_given_by_the_template_is_checked() -> None:
    parse = parser(title="x", level="{{ alert.p }}")

    assert parse({"p": 2})[0].level == 2
    assert parse({"p": None})[0].level is None  # null renders empty: grading decides
    assert refusal(parse, {"p": 7}).field == "template.level"


def test_a_link_that_is_not_http_is_refused_naming_the_link() -> None:
    parse = parser(title="x", links=[{"url": "{{ alert.u }}", "title": "Run"}])

    assert parse({"u": "https://ci.example.com/1"})[0].links == (
        Link("Run", "https://ci.example.com/1"),
    )
    error = refusal(parse, {"u": "javascript:alert(1)"})
    assert error.field == "template.links[0].url"


def test_a_title_rendering_empty_is_refused() -> None:
    error = refusal(parser(title="{{ alert.t }}"), {"t": "  "})

    assert (error.field, error.problem) == ("template.title", "rendered empty")


def test_a_null_renders_as_nothing_not_none() -> None:
    (event,) = parser(title="disk {{ alert.where }}full")({"where": None})

    assert event.title == "disk full"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ alert.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ (alert|list).append(1) }}",
        "{{ alert.update({'x': 1}) }}",
    ],
)
def test_the_sandbox_refuses_python_internals_and_changing_the_body(template: str) -> None:
    body = {"x": "y"}

    error = refusal(parser(title=template), body)

    assert error.field == "template.title"
    assert body == {"x": "y"}


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ 'x' * 1000000 }}", "more than 10000"),
        ("{{ 'x' * alert.n }}", "more than 10000"),
        ("{{ 9 ** 99999 }}", "exponent"),
        ("{{ '%0999999d' % 1 }}", "% formatting"),
        ("{{ 'x'.ljust(alert.n) }}", "over 10000"),
        ("{{ range(10000000) | list }}", "over 10000"),
    ],
)
def test_evaluation_stays_bounded(template: str, says: str) -> None:
    error = refusal(parser(title=template), {"n": 10**9})

    assert says in error.problem


def test_rendered_text_stops_at_the_fields_cap() -> None:
    (event,) = parser(title="{{ alert.t }}", description="{{ alert.t }}")({"t": "x" * 50_000})

    assert len(event.title) == LIMITS.title
    assert event.title.endswith("…")
    assert len(event.description) == LIMITS.long


@pytest.mark.parametrize(
    ("mapping", "place", "says"),
    [
        ({"title": "{{ alert.name }"}, "template.title", "unexpected '}'"),
        ({"title": "x", "resolved_when": "alert.s =="}, "template.resolved_when", "expression"),
        ({"title": "x", "alerts": "body.["}, "template.alerts", "expression"),
        ({"title": "x", "labels": {"h": "{{ x | nope }}"}}, "template.labels.h", "nope"),
        ({"title": "x", "links": [{"url": "{{"}]}, "template.links[0].url", "end of template"),
        (
            {"title": "{% for a in b %}{% for c in a %}{% endfor %}{% endfor %}"},
            "template.title",
            "loops inside loops",
        ),
        ({"title": "{% macro m() %}{% endmacro %}"}, "template.title", "macros"),
        ({"title": "{% include 'x' %}"}, "template.title", "include"),
        ({"title": "{{ x | center(9) }}"}, "template.title", "center"),
        ({"title": "x" * (MAX_SOURCE_CHARS + 1)}, "template.title", "at most"),
    ],
)
def test_a_mapping_that_does_not_compile_names_every_field(
    mapping: dict[str, Any], place: str, says: str
) -> None:
    with pytest.raises(TemplateSpecError) as caught:
        compile_spec(spec_from_mapping(mapping), default_source="checks")

    ((where, problem),) = caught.value.problems
    assert where == place
    assert says in problem


def test_the_load_time_check_says_what_is_wrong_or_nothing() -> None:
    assert check_source("text", "{{ alert.name }} is {{ alert.status }}") is None
    assert check_source("expression", 'alert.status == "up"') is None
    assert check_source("text", "{{ alert.name }") is not None
    assert (check_source("expression", "a ==") or "").startswith("not a valid expression")


MAPPING = {
    "alerts": "body.alerts",
    "title": "{{ alert.name }} {{ alert.value | default('') }}",
    "resolved_when": "alert.ok",
    "fingerprint": "{{ alert.id | default('') }}",
    "severity": "{{ alert.sev | default('') }}",
    "level": "{{ alert.level | default('') }}",
    "labels": {"host": "{{ alert.host | default('') }}"},
    "links": [{"url": "{{ alert.url | default('') }}"}],
}


@fuzz(300)
@given(data=st.data())
def test_a_mapping_reading_many_fields_gives_events_or_a_payload_error(
    data: st.DataObject,
) -> None:
    ran("template parser: bodies for a mapping reading many fields")
    parse = parser(**MAPPING)
    alert = st.fixed_dictionaries(
        {},
        optional={
            key: json_values for key in ("name", "value", "ok", "id", "sev", "level", "host", "url")
        },
    )
    body = data.draw(st.one_of(json_values, st.fixed_dictionaries({"alerts": st.lists(alert)})))
    try:
        events = parse(body)
    except PayloadError as error:
        refused: PayloadError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.field.startswith("template.")
        assert refused.problem.strip()
        return
    for event in events:
        assert event.title.strip()
        assert event.fingerprint
        assert all(link.url.startswith(("http://", "https://")) for link in event.links)


def test_an_empty_list_of_alerts_is_refused_like_every_format_refuses_an_empty_body() -> None:
    error = refusal(SOURCE.parse, {"account": "acme", "monitors": []})

    assert (error.field, error.problem) == (
        "template.alerts",
        "gave an empty list: no alert to take",
    )
