"""The lock files hold every dependency pyproject.toml declares, at a version it allows, with
hashes: `make run` and `make test` install exactly what was locked (`make lock` renews them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(name) for name in project["dependencies"]]
    wanted, seen = list(extras), set()
    while wanted:  # an extra may name others: "tocsin[charts]"
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for item in project["optional-dependencies"][extra]:
            requirement = Requirement(item)
            if canonicalize_name(requirement.name) == "tocsin":
                wanted.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def locked(name: str) -> dict[str, Version]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return {canonicalize_name(n): Version(v) for n, v in PINNED.findall(text)}


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        ("requirements.lock", ()),
        ("requirements-dev.lock", ("dev",)),
        ("requirements-charts.lock", ("charts",)),
    ],
)
def test_every_declared_dependency_is_locked_at_an_allowed_version(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = locked(lock)
    assert pins, f"{lock} pins nothing"
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert name in pins, f"{lock} lacks {requirement} (run `make lock`)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, pyproject.toml asks {requirement.specifier}"
        )


def test_every_pin_carries_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock", "requirements-charts.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        entries = re.split(r"\n(?=[A-Za-z0-9])", text)
        for entry in entries:
            if PINNED.match(entry):
                assert "--hash=sha256:" in entry, f"{lock}: {entry.splitlines()[0]} has no hash"


def test_the_runtime_lock_leaves_the_test_tools_out() -> None:
    pins = locked("requirements.lock")
    for tool in ("pytest", "mypy", "ruff", "playwright", "hypothesis", "matplotlib"):
        assert tool not in pins, f"requirements.lock installs {tool} for `make run`"
