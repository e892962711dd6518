import re

from escalation.sources._fingerprint import derive_fingerprint


def test_fingerprint_is_sixteen_lowercase_hex_digits() -> None:
    fingerprint = derive_fingerprint(title="Disk full", labels={"host": "db-1"})

    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)


def test_fingerprint_is_stable_across_releases() -> None:
    # Pinned: changing the derivation would split every open alert from its next firing.
    assert derive_fingerprint(title="Disk full", labels={"host": "db-1"}) == "3e14f050cfdecbbc"


def test_same_title_and_labels_give_same_fingerprint() -> None:
    first = derive_fingerprint(title="Disk full", labels={"host": "db-1", "env": "prod"})
    second = derive_fingerprint(title="Disk full", labels={"host": "db-1", "env": "prod"})

    assert first == second


def test_label_order_does_not_change_fingerprint() -> None:
    forward = derive_fingerprint(title="Disk full", labels={"a": "1", "b": "2", "c": "3"})
    backward = derive_fingerprint(title="Disk full", labels={"c": "3", "b": "2", "a": "1"})

    assert forward == backward


def test_different_title_gives_different_fingerprint() -> None:
    labels = {"host": "db-1"}

    assert derive_fingerprint(title="Disk full", labels=labels) != derive_fingerprint(
        title="Disk nearly full", labels=labels
    )


def test_different_label_value_gives_different_fingerprint() -> None:
    assert derive_fingerprint(title="Disk full", labels={"host": "db-1"}) != derive_fingerprint(
        title="Disk full", labels={"host": "db-2"}
    )


def test_extra_label_gives_different_fingerprint() -> None:
    assert derive_fingerprint(title="Disk full", labels={}) != derive_fingerprint(
        title="Disk full", labels={"host": "db-1"}
    )


def test_separator_characters_cannot_make_distinct_inputs_collide() -> None:
    assert derive_fingerprint(title="x", labels={"a": "b=c"}) != derive_fingerprint(
        title="x", labels={"a=b": "c"}
    )
    assert derive_fingerprint(title="x,a", labels={"b": "c"}) != derive_fingerprint(
        title="x", labels={"a,b": "c"}
    )
