"""The outbox key carried in message metadata, and recognising it in history."""

from __future__ import annotations

from bot.delivery.posting import METADATA_EVENT, carries_key, delivery_metadata


def test_a_message_carries_the_key_it_was_posted_with() -> None:
    message = {"ts": "1.000001", "metadata": delivery_metadata("alert:7:v2:0")}
    assert carries_key(message, "alert:7:v2:0")
    assert not carries_key(message, "alert:7:v2:1")


def test_messages_without_our_metadata_do_not_match() -> None:
    assert not carries_key({"ts": "1.0"}, "k")
    other = {"metadata": {"event_type": "someone_else", "event_payload": {"outbox_key": "k"}}}
    assert not carries_key(other, "k")
    assert delivery_metadata("k")["event_type"] == METADATA_EVENT
