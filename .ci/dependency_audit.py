"""Dependency audit that fails when it could not check: every installed distribution is
looked up in PyPI's vulnerability data (the advisories of the Python Packaging Advisory
Database and OSV that PyPI attaches to releases), and the run fails

- on any known vulnerability of an installed version (unless ``--ignore ID`` names it),
- when nothing at all could be checked (no network, the service down), and
- when one of the project's own dependencies (``pyproject.toml``) could not be checked.

Transitive dependencies that could not be checked are listed by name and version.

Why not plain ``pip-audit``: its default service asks PyPI per version
(``/pypi/NAME/VERSION/json``), which some mirrors and proxies do not serve; it then skips
every package and still says "No known vulnerabilities found". OSV's API may be out of reach
too. This script asks per version first and, where that is not served, the project's page
(``/pypi/NAME/json``), whose data describes its latest release: used when that is the
installed version. Run it with the environment's interpreter:
``.venv/bin/python .ci/dependency_audit.py``. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

PYPI = "https://pypi.org/pypi"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

Fetch = Callable[[str], "dict[str, object] | None"]
"""GET a PyPI JSON URL: the document, ``None`` for a 404; raises OSError when unreachable."""


@dataclass
class Finding:
    name: str
    version: str
    vulnerabilities: list[dict[str, object]] = field(default_factory=list)
    unchecked: str | None = None  # why it could not be checked


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch_json(url: str) -> dict[str, object] | None:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    for attempt in range(3):
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - https
                found: dict[str, object] = json.load(answer)
                return found
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if attempt == 2:
                raise OSError(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            if attempt == 2:
                raise OSError(str(exc)) from exc
    raise AssertionError("unreachable")


def audit_one(name: str, version: str, fetch: Fetch) -> Finding:
    finding = Finding(name, version)
    try:
        page = fetch(f"{PYPI}/{name}/{version}/json")
        if page is None:  # per-version pages not served: the project's, if it is the latest
            page = fetch(f"{PYPI}/{name}/json")
            info = page.get("info") if page else None
            latest = info.get("version") if isinstance(info, dict) else None
            if page is None:
                finding.unchecked = "not found on PyPI"
                return finding
            if latest != version:
                finding.unchecked = f"PyPI's data here covers only its latest release, {latest}"
                return finding
    except OSError as exc:
        finding.unchecked = f"PyPI could not be reached: {exc}"
        return finding
    listed = page.get("vulnerabilities")
    if not isinstance(listed, list):
        finding.unchecked = "PyPI's answer has no vulnerability data"
        return finding
    finding.vulnerabilities = [v for v in listed if isinstance(v, dict) and not v.get("withdrawn")]
    return finding


def _strings(value: object) -> list[str]:
    return [str(x) for x in value] if isinstance(value, list) else []


def own_dependencies(pyproject: Path) -> tuple[str, set[str]]:
    """The project's name and the names of its direct dependencies (extras included)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    names = {canonical(re.split(r"[\s<>=!~;\[(]", spec, maxsplit=1)[0]) for spec in specs}
    return canonical(project["name"]), names


def audit(
    installed: Iterable[tuple[str, str]],
    *,
    direct: set[str],
    ignore: set[str],
    fetch: Fetch,
    allow: frozenset[str] = frozenset(),
    require_direct: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """0 when something was checked and nothing checked is vulnerable. Distributions that
    could not be checked are listed; with ``require_direct`` a direct dependency that could not
    be (but those in ``allow``, canonical names) fails the audit too. Not by default: the lock
    pins releases that fall behind PyPI's latest, whose data is all that some mirrors serve, so
    a strict default would fail CI whenever a dependency publishes a release."""
    packages = sorted(installed)
    with ThreadPoolExecutor(max_workers=8) as pool:
        findings = list(pool.map(lambda p: audit_one(p[0], p[1], fetch), packages))
    checked = [f for f in findings if f.unchecked is None]
    failed = False
    for f in checked:
        for vuln in f.vulnerabilities:
            ids = {str(vuln.get("id")), *_strings(vuln.get("aliases"))}
            if ids & ignore:
                out(f"ignored: {f.name} {f.version} {vuln.get('id')} (--ignore)")
                continue
            fixed = ", ".join(_strings(vuln.get("fixed_in"))) or "no fixed release"
            out(f"VULNERABLE: {f.name} {f.version}: {vuln.get('id')} (fixed in {fixed})")
            failed = True
    unchecked = [f for f in findings if f.unchecked is not None]
    for f in unchecked:
        kind = "direct dependency" if canonical(f.name) in direct else "transitive"
        out(f"not checked ({kind}): {f.name} {f.version}: {f.unchecked}")
    if not checked:
        out("FAILED: no distribution could be checked, so nothing is known about any of them")
        return 1
    missing = sorted(
        f.name for f in unchecked if canonical(f.name) in direct and canonical(f.name) not in allow
    )
    if missing and require_direct:
        out(f"FAILED: direct dependencies not checked: {', '.join(missing)}")
        failed = True
    elif missing:
        out(f"warning: direct dependencies not checked: {', '.join(missing)}")
    out(
        f"dependency audit: {len(checked)} of {len(findings)} installed distributions checked "
        f"against PyPI's vulnerability data; {'FAILED' if failed else 'no known vulnerabilities'}"
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="ID", help="a vulnerability id to accept"
    )
    parser.add_argument(
        "--require-direct",
        action="store_true",
        help="fail when a direct dependency could not be checked (not only when nothing could)",
    )
    parser.add_argument(
        "--allow-unchecked",
        action="append",
        default=[],
        metavar="NAME",
        help="with --require-direct: a direct dependency that may go unchecked (e.g. its latest "
        "release needs a newer Python, so PyPI's latest-release data does not describe ours)",
    )
    args = parser.parse_args(argv)
    project, direct = own_dependencies(PYPROJECT)
    installed = {
        (dist.metadata["Name"], dist.version)
        for dist in metadata.distributions()
        if dist.metadata["Name"] and canonical(dist.metadata["Name"]) != project
    }
    allow = frozenset(canonical(name) for name in args.allow_unchecked)
    return audit(
        installed,
        direct=direct,
        ignore=set(args.ignore),
        fetch=fetch_json,
        allow=allow,
        require_direct=args.require_direct,
    )


if __name__ == "__main__":
    sys.exit(main())
