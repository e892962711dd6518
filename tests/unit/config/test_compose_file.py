"""compose.yaml: every setting reaches the replicas, and one address spreads over both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings

COMPOSE = Path(__file__).parents[3] / "compose.yaml"
FIXED_INSIDE_THE_IMAGE = {"TOCSIN_HOST", "TOCSIN_PORT"}  # the image's ENV; the balancer uses them
TESTS_ONLY = {"TOCSIN_FAULT_POINT"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_every_documented_setting_passes_through_to_the_replicas() -> None:
    environment = _compose()["x-tocsin"]["environment"]
    for info in Settings.model_fields.values():
        name = str(info.alias)
        if name in FIXED_INSIDE_THE_IMAGE | TESTS_ONLY:
            continue
        assert name in environment, f"{name} does not reach the replicas"


def test_the_balancer_sends_to_both_replicas_on_their_port() -> None:
    services = _compose()["services"]
    assert services["balancer"]["ports"] == ["8080:8080"]
    config = _compose()["configs"]["balancer"]["content"]
    for replica in ("tocsin-1", "tocsin-2"):
        assert replica in services
        assert f"server {replica}:8080" in config
        assert "ports" not in services[replica]  # reached through the balancer only


def test_an_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_PORT", "")
    monkeypatch.setenv("TOCSIN_REVIEW_TOKEN", "")
    settings = Settings()
    assert settings.port == 8080
    assert settings.review_token is None
