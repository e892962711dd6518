"""The running policy: a switch reaches every subscriber at once, a refused file keeps the
running one and is reported with its problems (what /readyz shows)."""

from __future__ import annotations

from pathlib import Path

from bot.policy.live import LivePolicy, Snapshot, content_version
from bot.policy.policy_file import snapshot_of
from config.policy import parse_policy
from config.settings import EXAMPLE_POLICY

ENV = {"TOCSIN_WEBHOOK_TOKEN": "example-token-0123"}


def snapshot(text: str) -> Snapshot:
    return snapshot_of(Path("policy.yaml"), text.encode(), parse_policy(text, env=ENV))


EXAMPLE = EXAMPLE_POLICY.read_text()


def test_the_version_is_a_hash_of_the_content() -> None:
    assert content_version(b"a") == content_version(b"a")
    assert content_version(b"a") != content_version(b"b")
    assert len(content_version(b"a")) == 12


def test_a_switch_reaches_every_subscriber_with_the_new_snapshot() -> None:
    live = LivePolicy(snapshot(EXAMPLE))
    seen: list[str] = []
    live.subscribe(lambda s: seen.append(f"one:{s.version}"))
    live.subscribe(lambda s: seen.append(f"two:{s.version}"))
    new = snapshot(EXAMPLE + "\n# edited\n")

    live.switch(new)

    assert live.current is new
    assert seen == [f"one:{new.version}", f"two:{new.version}"]


def test_a_refused_file_keeps_the_running_one_and_is_reported_stale() -> None:
    first = snapshot(EXAMPLE)
    live = LivePolicy(first)
    assert live.report() == {"status": "current", "version": first.version, "path": "policy.yaml"}

    live.refuse("abc123", ["line 3: levels: is required", "line 9: routes[0]: wrong"])

    assert live.current is first
    assert live.report() == {
        "status": "stale",
        "version": first.version,
        "path": "policy.yaml",
        "errors": ["line 3: levels: is required", "line 9: routes[0]: wrong"],
        "refused_version": "abc123",
    }

    live.switch(snapshot(EXAMPLE + "\n# fixed\n"))
    assert live.report()["status"] == "current"
    assert "errors" not in live.report()


def test_the_watcher_looks_at_the_policy_file_and_kubernetes_data_link_only() -> None:
    from watchfiles import Change

    from bot.workers.policy_reload import concerns

    assert concerns("policy.yaml", Change.modified, "/config/policy.yaml")
    assert concerns("policy.yaml", Change.added, "/config/..data")
    assert not concerns("policy.yaml", Change.modified, "/config/tocsin.db-wal")
    assert not concerns("policy.yaml", Change.added, "/config/.policy.yaml.swp")
