"""``tocsin integration test <name> <payload.json>``, run as the process an operator runs: it
prints what a body would become (parsed, graded, routed) or what is missing from it, posts
nothing, and says so in its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from escalation.sources.template import EXAMPLE_MAPPING

FIXTURES = Path(__file__).parents[1] / "fixtures"
POLICY = f"""\
levels:
  1: {{name: critical}}
  2: {{name: major}}
  3: {{name: minor}}
grading:
  - {{match: {{severity: critical}}, level: 1}}
routes:
  - {{match: {{account: acme}}, team: shop, channel: "#shop-alerts"}}
default_route: {{team: ops, channel: "#alerts"}}
integrations:
  - {{name: checks, format: template, token: "${{HOOK_TOKEN}}",
     template: {json.dumps(EXAMPLE_MAPPING)}}}
  - {{name: am, format: alertmanager, token: "${{HOOK_TOKEN}}"}}
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TOCSIN_CONFIG": str(policy),
        "HOOK_TOKEN": "hook-token-0123",
        # a database that cannot be opened: the command must not need one
        "TOCSIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/absent/dir/tocsin.db",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "integration", "test", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_template_body_prints_each_alert_graded_and_routed(tmp_path: Path) -> None:
    done = run(tmp_path, "checks", str(FIXTURES / "template" / "many.json"))

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "checks (template): this body would become 3 alert(s); nothing sent" in out
    assert "alert 1 of 3: resolved" in out
    assert "title:       Checkout API is up" in out
    assert "resolves the open alert of this fingerprint" in out
    assert "alert 2 of 3: firing" in out
    assert "title:       Search is down" in out
    assert "fingerprint: template:monitor-779" in out
    assert "level:       3 (minor) — default level" in out
    assert "route:       team shop, channel #shop-alerts, policy default (routes[0])" in out
    assert "labels:      account=acme, monitor=Search" in out
    assert not (tmp_path / "absent").exists()


def test_a_critical_monitor_is_graded_by_the_policy_and_its_link_shown(tmp_path: Path) -> None:
    done = run(tmp_path, "checks", str(FIXTURES / "template" / "down.json"))

    assert done.returncode == 0, done.stderr
    assert "level:       1 (critical) — grading rule 1" in done.stdout
    assert "link:        Dashboard <https://status.example.com/monitors/778>" in done.stdout


def test_a_body_lacking_what_the_template_reads_says_what_and_where(tmp_path: Path) -> None:
    done = run(tmp_path, "checks", str(FIXTURES / "template" / "missing_name.json"))

    assert done.returncode == 1
    assert done.stdout == ""
    assert "refused (HTTP 422)" in done.stderr
    assert "has no attribute 'name'" in done.stderr
    assert "field: template.title (alerts[0])" in done.stderr


def test_any_format_is_previewed_with_its_own_parser(tmp_path: Path) -> None:
    good = run(tmp_path, "am", str(FIXTURES / "alertmanager" / "firing_single.json"))
    bad = run(tmp_path, "am", str(FIXTURES / "template" / "down.json"))

    assert good.returncode == 0, good.stderr
    assert "am (alertmanager): this body would become 1 alert(s)" in good.stdout
    assert bad.returncode == 1
    assert "refused (HTTP 422)" in bad.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("nope", "body.json"), "no integration named 'nope'; known: checks, am"),
        (("checks", "absent.json"), "cannot read"),
    ],
)
def test_what_cannot_run_exits_2_saying_why(
    tmp_path: Path, args: tuple[str, str], says: str
) -> None:
    done = run(tmp_path, args[0], str(tmp_path / args[1]))

    assert done.returncode == 2
    assert says in done.stderr


def test_a_body_that_is_not_json_is_refused_as_the_webhook_would(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"account": "acme",', encoding="utf-8")

    done = run(tmp_path, "checks", str(body))

    assert done.returncode == 1
    assert "refused (HTTP 400)" in done.stderr
