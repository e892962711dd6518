"""What the commands that only read the database share (``report``, ``export``, ``noise``):
opening a database that must already be there, the output formats, a progress bar."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config.settings import Settings
from storage.db import Database
from storage.existing import DatabaseNotReady, open_existing, shown_url


class ReportFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


async def open_for_reading(settings: Settings, *, console: Console) -> Database:
    """The configured database, or one line on stderr saying which one and what to run, and
    exit code 1. Never creates a database (nor its folder)."""
    try:
        return await open_existing(settings.async_database_url())
    except DatabaseNotReady as exc:
        console.print(f"{exc}; {_advice(exc, settings)}", style="red", markup=False)
        raise typer.Exit(1) from None


def _advice(exc: DatabaseNotReady, settings: Settings) -> str:
    if exc.kind in ("unmigrated", "behind"):
        return "run `tocsin db upgrade` (or start the service once: `tocsin serve`)"
    url = shown_url(settings.database_url)
    if exc.kind == "ahead":
        return "upgrade this Tocsin to the version that migrated it"
    if exc.kind == "missing":
        return (
            f"TOCSIN_DATABASE_URL is {url}; point it at the service's database "
            "(a relative sqlite path is read from the current folder), "
            "or make an empty one with `tocsin db upgrade`"
        )
    return "check TOCSIN_DATABASE_URL"


def progress_bar(console: Console) -> Progress:
    """One bar with done/total and the time taken, on stderr, drawn only on a terminal (piped
    or redirected output stays clean) and gone when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
