"""The outbox key carried in message metadata, and recognising it in history."""

from __future__ import annotations

from bot.delivery.deliveries import LINES_THROUGH, THREAD_COUNT, covered_by
from bot.delivery.posting import METADATA_EVENT, delivery_metadata, keys_of


def test_a_message_carries_the_key_it_was_posted_with() -> None:
    message = {"ts": "1.000001", "metadata": delivery_metadata("alert:7:v2:0")}
    assert "alert:7:v2:0" in keys_of(message)
    assert "alert:7:v2:1" not in keys_of(message)


def test_messages_without_our_metadata_do_not_match() -> None:
    assert "k" not in keys_of({"ts": "1.0"})
    other = {"metadata": {"event_type": "someone_else", "event_payload": {"outbox_key": "k"}}}
    assert "k" not in keys_of(other)
    assert delivery_metadata("k")["event_type"] == METADATA_EVENT


def test_a_note_rides_along_without_displacing_the_key() -> None:
    message = {"metadata": delivery_metadata("k", {"lines_through": 9, "outbox_key": "other"})}
    assert "k" in keys_of(message)
    assert message["metadata"]["event_payload"]["lines_through"] == 9


def test_a_reply_found_in_doubt_covers_only_the_rows_it_says() -> None:
    note = {LINES_THROUGH: 5, THREAD_COUNT: 3}
    assert covered_by(note, [4, 5, 7], count=1) == ([4, 5], 3)
    # a reply posted without a note: no later row is taken as said (a repeat, not a loss)
    assert covered_by({}, [4, 5, 7], count=1) == ([], 1)


def test_a_message_standing_for_several_rows_carries_each_key() -> None:
    message = {"metadata": delivery_metadata("alert:7:v2:0", also=["alert:8:v1:0", "alert:9:v1:0"])}
    assert keys_of(message) == {"alert:7:v2:0", "alert:8:v1:0", "alert:9:v1:0"}
    assert "alert:9:v1:0" in keys_of(message)
    assert "alert:10:v1:0" not in keys_of(message)


def test_keys_listed_in_someone_elses_metadata_or_malformed_are_not_ours() -> None:
    other = {"metadata": {"event_type": "someone_else", "event_payload": {"outbox_keys": ["k"]}}}
    assert keys_of(other) == set()
    odd = {"metadata": {"event_type": METADATA_EVENT, "event_payload": {"outbox_keys": "kk"}}}
    assert keys_of(odd) == set()  # a string is not a list of keys: not "k" twice
