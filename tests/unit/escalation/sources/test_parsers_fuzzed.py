"""Every parser in ``escalation.sources.PARSERS`` (formats added later included) is fuzzed:
for any JSON value — arbitrary, or a valid example of the format with one part replaced or
removed — it returns events or raises ``PayloadError`` naming a field and a problem; nothing
else escapes, and what it returns can be stored and shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import PayloadError
from escalation.model import AlertEvent
from escalation.sources import PARSERS, SOURCES, Parser
from tests.support.fuzz import fuzz, json_values, ran

FIXTURES = Path(__file__).parents[2] / "fixtures"


def seeds(name: str) -> list[Any]:
    """Valid examples of a format: its fixtures that parse, and the source's examples."""
    found: list[Any] = [dict(example.body) for example in SOURCES[name].examples]
    for path in sorted((FIXTURES / name).glob("*.json")):
        payload = json.loads(path.read_text())
        try:
            PARSERS[name](payload)
        except PayloadError:
            continue
        found.append(payload)
    return found


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += places(child, (*path, index))
    return found


def mutated(seed: Any, draw: st.DrawFn) -> Any:
    """A copy of ``seed`` with one place replaced by an arbitrary value, or removed."""
    copy = json.loads(json.dumps(seed))
    path = draw(st.sampled_from(places(copy)))
    if not path:
        return draw(json_values)
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()):
        parent[path[-1]] = draw(json_values)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return copy


def check(parser: Parser, payload: Any) -> None:
    try:
        events = parser(payload)
    except PayloadError as error:
        refused: PayloadError | None = error
    else:
        refused = None
    if refused is not None:
        assert isinstance(refused.field, str)
        assert refused.problem.strip()
        return
    assert isinstance(events, list)
    assert events
    for event in events:
        assert isinstance(event, AlertEvent)
        assert event.title.strip()
        assert event.fingerprint
        json.dumps(event.details)  # storable as JSON
        for link in event.links:
            assert link.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("name", sorted(PARSERS))
@fuzz(300)
@given(data=st.data())
def test_any_json_value_gives_events_or_a_payload_error(name: str, data: st.DataObject) -> None:
    ran(f"parser {name}: arbitrary JSON")
    check(PARSERS[name], data.draw(json_values))


@pytest.mark.parametrize("name", sorted(PARSERS))
@fuzz(400)
@given(data=st.data())
def test_a_valid_body_with_one_part_broken_gives_events_or_a_payload_error(
    name: str, data: st.DataObject
) -> None:
    ran(f"parser {name}: mutated examples")
    known = seeds(name)
    if not known:
        pytest.skip(f"no valid example of {name} to mutate (add one to tests/unit/fixtures)")
    seed = data.draw(st.sampled_from(known))
    check(PARSERS[name], data.draw(st.composite(lambda draw: mutated(seed, draw))()))


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_parser_has_valid_examples_to_fuzz_from(name: str) -> None:
    assert seeds(name), f"add a valid {name} body to tests/unit/fixtures/{name}/"
