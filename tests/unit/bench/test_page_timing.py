"""The time-to-page bench's arithmetic: which landing in the fake Slack is an alert's page or
warning, and percentiles in which a page that never came counts as missed."""

import math

import pytest

from bench.page_timing import (
    Figure,
    FirstSeen,
    Landing,
    Spread,
    delay,
    figures_json,
    first_of,
    last_of,
    marker,
    markers_in,
    percentile,
)

DM_ALICE, ALERTS = "DALICE", "CALERTS"


def landing(
    at: float, names: set[str], *, dm: str | None = None, new: bool = True, where: str = ""
) -> Landing:
    conversation = where or (DM_ALICE if dm else ALERTS)
    return Landing(at, 1_000 + at, conversation, dm, new, frozenset(names))


def test_markers_are_fixed_width_so_none_is_found_inside_another() -> None:
    assert marker("quiet", 7) == "pb-quiet-00007"
    text = "Paged: [critical] pb-quiet-00070 checkout down"
    assert markers_in(text) == {"pb-quiet-00070"}
    assert marker("quiet", 7) not in markers_in(text)


def test_markers_are_found_in_text_blocks_and_attachments() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "`#3` pb-storm-00003 x"}}]
    found = markers_in("Storm in #alerts", blocks, [{"text": "pb-crit-00001"}], None)
    assert found == {"pb-storm-00003", "pb-crit-00001"}


def test_a_marker_outside_the_alphabet_is_refused() -> None:
    with pytest.raises(ValueError, match="no marker"):
        marker("Quiet", 1)


def test_a_page_is_the_first_new_dm_message_and_an_edit_does_not_count() -> None:
    seen = FirstSeen()
    name = marker("storm", 1)
    seen.add(landing(1.0, {"pb-storm-00000"}, dm="U0ALICE"))
    seen.add(landing(2.0, {"pb-storm-00000", name}, dm="U0ALICE", new=False))  # storm page edit
    assert seen.page("U0ALICE", name) is None
    assert seen.dm_any[("U0ALICE", name)].at == 2.0
    seen.add(landing(5.0, {name}, dm="U0ALICE"))
    page = seen.page("U0ALICE", name)
    assert page is not None
    assert page.at == 5.0


def test_a_page_to_someone_else_is_not_this_persons_page() -> None:
    seen = FirstSeen()
    seen.add(landing(1.0, {"pb-deadline-00000"}, dm="U0ALICE"))
    assert seen.page("U0BOB", "pb-deadline-00000") is None


def test_a_warning_is_the_first_message_or_edit_naming_the_alert_in_its_channel() -> None:
    seen = FirstSeen()
    name = marker("crit", 0)
    seen.add(landing(1.0, {name}, where="CDBALERTS"))  # another channel does not count
    seen.add(landing(3.0, {name}, new=False))  # a storm summary redrawn with it on top
    seen.add(landing(4.0, {name}))
    warning = seen.warning(ALERTS, name)
    assert warning is not None
    assert warning.at == 3.0
    assert seen.warning("CDBALERTS", name) is not None


def test_delays_count_from_the_webhook_answer() -> None:
    assert delay(10.0, landing(12.5, set())) == 2.5
    assert delay(10.0, None) is None


def test_first_and_last_of_a_group_of_landings() -> None:
    early, late = landing(1.0, set()), landing(9.0, set())
    assert first_of([None, late, early]) is early
    assert first_of([None]) is None
    assert last_of([early, late]) is late
    assert last_of([early, None]) is None  # a member never listed: never all listed


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1 … 20
    assert percentile(values, 0.5) == 10.0
    assert percentile(values, 0.99) == 20.0
    assert percentile(values[:1], 0.99) == 1.0
    assert math.isnan(percentile([], 0.5))


def test_a_delivery_that_never_came_is_later_than_every_one_that_did() -> None:
    values: list[float | None] = [0.5] * 99 + [None]
    assert percentile(values, 0.99) == 0.5
    assert math.isinf(percentile(values, 1.0))
    assert math.isinf(percentile([*values, None], 0.99))


def test_a_spread_prints_a_missing_percentile_as_not_within_the_wait() -> None:
    spread = Spread.of([0.25, None], waited=120.0)
    assert spread.text() == "0.25 s / not within 120 s / not within 120 s (1 of 2 never)"
    assert spread.as_json()["p99_s"] is None
    assert spread.as_json()["missing"] == 1


def test_a_target_is_met_only_by_a_figure_within_it() -> None:
    met = Figure("page", Spread.of([0.2, 0.9], waited=10), target=1.0)
    missed = Figure("page", Spread.of([0.2, None], waited=10), target=1.0)
    reported = Figure("warning", Spread.of([7.0], waited=10))
    assert met.met() is True
    assert met.verdict() == "p99 ≤ 1 s — met"
    assert missed.met() is False
    assert missed.verdict() == "p99 ≤ 1 s — MISSED"
    assert reported.met() is None
    assert reported.verdict() == ""
    as_json = figures_json({"page": missed})
    assert as_json["page"]["met"] is False
    assert as_json["page"]["target_s"] == 1.0
