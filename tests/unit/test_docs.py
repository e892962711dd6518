"""The README stays a front door (a few screens); the manual is docs/, every page in its nav."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]


def _nav_pages(nav: list[Any]) -> set[str]:
    found: set[str] = set()
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            if isinstance(value, list):
                found |= _nav_pages(value)
            else:
                found.add(str(value))
    return found


def test_the_readme_fits_on_a_few_screens() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: move detail to docs/"


def test_every_docs_page_is_in_the_site_nav_and_linked_from_the_readme() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert _nav_pages(config["nav"]) == pages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    assert pages - {"index.md"} <= linked, sorted(pages - {"index.md"} - linked)
