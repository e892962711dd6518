"""What a storm page names: the newest alerts that paged the person, a level-1 alert kept
however many lower pages follow it."""

from __future__ import annotations

from storage.noise.storms import FRESH_NAMED, fresh_entry, fresh_names


def test_the_newest_pages_are_named_and_at_most_the_limit() -> None:
    fresh = fresh_names([], [[n, 3] for n in range(1, 30)])
    assert [fresh_entry(e)[0] for e in fresh] == list(range(30 - FRESH_NAMED, 30))


def test_a_level_1_alert_stays_named_when_many_lower_pages_follow() -> None:
    fresh = fresh_names([], [[7, 1]])
    for n in range(100, 150):
        fresh = fresh_names(fresh, [[n, 3]])
    named = [fresh_entry(e)[0] for e in fresh]
    assert 7 in named
    assert len(named) == FRESH_NAMED
    assert named[-1] == 149


def test_an_alert_paged_again_moves_to_the_end_once() -> None:
    fresh = fresh_names([[1, 2], [2, 2]], [[1, 2]])
    assert [fresh_entry(e)[0] for e in fresh] == [2, 1]
