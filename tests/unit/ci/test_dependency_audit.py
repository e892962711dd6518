"""The dependency audit in `make test` fails when it finds a vulnerability and when it could
not check: a run that looked nothing up must not say "no known vulnerabilities" (issue 15,
item 8)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dependency_audit", ROOT / ".ci/dependency_audit.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit_module = _load()
PYPI = audit_module.PYPI
VULN: dict[str, object] = {
    "id": "PYSEC-2017-94",
    "aliases": ["CVE-2013-7459"],
    "fixed_in": [],
    "withdrawn": None,
}


class FakePyPI:
    """Pages by URL; a URL in ``down`` raises as an unreachable host does."""

    def __init__(self, pages: dict[str, Any], down: bool = False) -> None:
        self.pages, self.down = pages, down
        self.asked: list[str] = []

    def __call__(self, url: str) -> dict[str, object] | None:
        self.asked.append(url)
        if self.down:
            raise OSError("Name or service not known")
        found: dict[str, object] | None = self.pages.get(url)
        return found


def run(fake: FakePyPI, installed: list[tuple[str, str]], *, direct: set[str],
        ignore: set[str] | None = None) -> tuple[int, list[str]]:  # fmt: skip
    lines: list[str] = []
    code = audit_module.audit(
        installed, direct=direct, ignore=ignore or set(), fetch=fake, out=lines.append
    )
    return code, lines


def test_nothing_reachable_fails_instead_of_reporting_no_vulnerabilities() -> None:
    code, lines = run(FakePyPI({}, down=True), [("httpx", "0.28.1")], direct=set())

    assert code == 1
    assert "no distribution could be checked" in lines[-1]
    assert not any("no known vulnerabilities" in line for line in lines)


def test_nothing_found_on_pypi_fails() -> None:
    code, lines = run(FakePyPI({}), [("leftpad", "1.0")], direct=set())

    assert code == 1
    assert any("not checked (transitive): leftpad 1.0: not found on PyPI" in x for x in lines)


def test_a_vulnerable_version_fails_and_is_named() -> None:
    fake = FakePyPI({f"{PYPI}/pycrypto/2.6.1/json": {"vulnerabilities": [VULN]}})

    code, lines = run(fake, [("pycrypto", "2.6.1")], direct={"pycrypto"})

    assert code == 1
    assert "VULNERABLE: pycrypto 2.6.1: PYSEC-2017-94 (fixed in no fixed release)" in lines


def test_an_ignored_vulnerability_passes_by_id_or_alias() -> None:
    fake = FakePyPI({f"{PYPI}/pycrypto/2.6.1/json": {"vulnerabilities": [VULN]}})

    assert run(fake, [("pycrypto", "2.6.1")], direct=set(), ignore={"CVE-2013-7459"})[0] == 0


def test_without_per_version_pages_the_latest_release_page_is_used() -> None:
    page = {"info": {"version": "2.6.1"}, "vulnerabilities": [VULN]}
    fake = FakePyPI({f"{PYPI}/pycrypto/json": page})

    code, lines = run(fake, [("pycrypto", "2.6.1")], direct=set())

    assert code == 1
    assert fake.asked == [f"{PYPI}/pycrypto/2.6.1/json", f"{PYPI}/pycrypto/json"]
    assert any(line.startswith("VULNERABLE: pycrypto") for line in lines)


def test_an_older_release_cannot_be_judged_by_the_latest_page() -> None:
    pages = {
        f"{PYPI}/numpy/json": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
        f"{PYPI}/httpx/0.28.1/json": {"vulnerabilities": []},
    }

    code, lines = run(FakePyPI(pages), [("numpy", "2.4.6"), ("httpx", "0.28.1")], direct={"httpx"})

    assert code == 0  # numpy is transitive: listed, not fatal
    assert "only its latest release, 2.5.5" in "\n".join(lines)
    assert "1 of 2 installed distributions checked" in lines[-1]


def test_a_direct_dependency_that_could_not_be_checked_is_a_warning_by_default() -> None:
    pages = {f"{PYPI}/numpy/json": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
             f"{PYPI}/httpx/0.28.1/json": {"vulnerabilities": []}}  # fmt: skip

    code, lines = run(FakePyPI(pages), [("numpy", "2.4.6"), ("httpx", "0.28.1")], direct={"numpy"})

    assert code == 0  # a pinned release behind PyPI's latest must not fail every CI run
    assert "warning: direct dependencies not checked: numpy" in lines


def test_a_direct_dependency_that_could_not_be_checked_fails_when_required() -> None:
    pages = {f"{PYPI}/numpy/json": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
             f"{PYPI}/httpx/0.28.1/json": {"vulnerabilities": []}}  # fmt: skip
    lines: list[str] = []

    code = audit_module.audit(
        [("numpy", "2.4.6"), ("httpx", "0.28.1")], direct={"numpy"}, ignore=set(),
        fetch=FakePyPI(pages), require_direct=True, out=lines.append,
    )  # fmt: skip

    assert code == 1
    assert "FAILED: direct dependencies not checked: numpy" in lines


def test_withdrawn_advisories_do_not_count() -> None:
    withdrawn = {**VULN, "withdrawn": "2024-01-01T00:00:00Z"}
    fake = FakePyPI({f"{PYPI}/x/1.0/json": {"vulnerabilities": [withdrawn]}})

    assert run(fake, [("x", "1.0")], direct={"x"})[0] == 0


def test_the_project_and_its_dependencies_are_read_from_pyproject() -> None:
    project, direct = audit_module.own_dependencies(ROOT / "pyproject.toml")

    assert project == "tocsin"
    assert {"fastapi", "ada-url", "slack-bolt", "pytest"} <= direct


def test_make_test_runs_the_audit() -> None:
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert re.search(r"\.venv/bin/python \.ci/dependency_audit\.py", dry)
    assert dry.index("dependency_audit") < dry.index("pytest")


def test_a_direct_dependency_may_be_allowed_to_go_unchecked_by_name() -> None:
    pages = {f"{PYPI}/numpy/json": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
             f"{PYPI}/httpx/0.28.1/json": {"vulnerabilities": []}}  # fmt: skip
    installed = [("NumPy", "2.4.6"), ("httpx", "0.28.1")]

    code = audit_module.audit(
        installed, direct={"numpy"}, ignore=set(), fetch=FakePyPI(pages),
        allow=frozenset({"numpy"}), require_direct=True, out=lambda _: None,
    )  # fmt: skip

    assert code == 0
