"""MkDocs hook: parts of the manual made from the code when the site is built, so adding a
source (its module, fixtures and test) changes no page by hand. A page says where with a
marker: ``<!-- generated: source-formats -->`` becomes the table of webhook formats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.http.docs.webhook_docs import formats_markdown

GENERATED: dict[str, Callable[[], str]] = {"source-formats": formats_markdown}


def expand(markdown: str) -> str:
    for name, make in GENERATED.items():
        marker = f"<!-- generated: {name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make().rstrip("\n"))
    return markdown


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)
