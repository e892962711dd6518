"""deploy/: the Prometheus rules and the Grafana dashboard use only metrics Tocsin exports,
and the rules fire (and stay quiet) as their promtool tests say."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime.metrics import Metrics

DEPLOY = Path(__file__).parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "rules.yaml"
RULE_TESTS = DEPLOY / "prometheus" / "rules.test.yaml"
DASHBOARD = DEPLOY / "grafana" / "tocsin-dashboard.json"
PROMETHEUS_OWN = {"up"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "summary": ("_sum", "_count", "_created"),
}
METRIC = re.compile(r"\b((?:tocsin|process|python)_[a-z_]+)\b|\b(up)\{")


def exported_names() -> set[str]:
    names: set[str] = set()
    for family in Metrics().registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def used_names(expressions: list[str]) -> set[str]:
    return {a or b for expr in expressions for a, b in METRIC.findall(expr)}


def rule_expressions() -> list[str]:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["expr"] for group in loaded["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_expressions() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def test_the_exported_names_are_read_from_the_registry() -> None:
    names = exported_names()
    assert {"tocsin_webhooks_received_total", "tocsin_outbox_depth"} <= names
    assert {"process_resident_memory_bytes", "tocsin_build_info"} <= names
    assert "tocsin_no_such_metric" not in names


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_used_is_one_tocsin_exports(source: str) -> None:
    expressions = rule_expressions() if source == "rules" else dashboard_expressions()
    used = used_names(expressions)
    assert used, f"no metric found in the {source}"
    unknown = used - exported_names() - PROMETHEUS_OWN
    assert not unknown, f"the {source} use metrics Tocsin does not export: {sorted(unknown)}"


def test_every_rule_links_its_runbook_and_the_runbook_exists() -> None:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    runbooks = (DEPLOY.parent / "docs" / "runbooks.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9-]", "", line[3:].strip().lower().replace(" ", "-"))
        for line in runbooks.splitlines()
        if line.startswith("## ")
    }
    for group in loaded["groups"]:
        for rule in group["rules"]:
            url = rule["annotations"]["runbook_url"]
            assert url == f"docs/runbooks.md#{rule['alert'].lower()}"
            assert rule["alert"].lower() in anchors, f"no runbook section for {rule['alert']}"


def test_every_dashboard_panel_queries_the_chosen_data_source() -> None:
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_the_rules_pass_promtool_check_and_their_unit_tests() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not found (Debian's `prometheus` package; .ci/run installs it)")
    for command in (["check", "rules", RULES.name], ["test", "rules", RULE_TESTS.name]):
        result = subprocess.run(
            [promtool, *command], cwd=RULES.parent, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
