"""The ``tocsin`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from bot.cli.integration import integration_app
from bot.cli.reading import ExportFormat, ReportFormat, open_for_reading, progress_bar
from bot.policy.policy_file import load_policy
from config.policy import PolicyError
from config.settings import DEV_WEBHOOK_TOKEN, Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from bot.policy.directory import PolicyDirectory

app = typer.Typer(help="Tocsin: alert dispatch and escalation for Slack.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
policy_app = typer.Typer(help="Escalation policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
config_app = typer.Typer(help="The policy file.", no_args_is_help=True)
app.add_typer(config_app, name="config")
calendar_app = typer.Typer(help="Calendar feeds of on-call shifts.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
calendar_token_app = typer.Typer(help="The feeds' secret tokens.", no_args_is_help=True)
calendar_app.add_typer(calendar_token_app, name="token")
app.add_typer(integration_app, name="integration")


@config_app.command("reference")
def config_reference() -> None:
    """Print the policy file reference (Markdown), generated from the validating models."""
    from config.reference import policy_reference

    print(policy_reference(), end="")


@config_app.command("environment")
def config_environment() -> None:
    """Print the environment variables (Markdown), generated from the settings model."""
    from config.reference import environment_reference

    print(environment_reference(), end="")


console = Console(stderr=True, soft_wrap=True)


def _print_version(value: bool) -> None:
    if value:
        from bot.runtime.version import tocsin_version

        print(f"tocsin {tocsin_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Tocsin: alert dispatch and escalation for Slack."""


@app.command()
def healthcheck(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 2.0,
) -> None:
    """Ask the running service's /healthz (at TOCSIN_HOST/TOCSIN_PORT); exit 0 when healthy.

    The Docker HEALTHCHECK: it follows the port the service was given."""
    import httpx

    settings = _settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}/healthz"
    try:
        status = httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError as exc:
        console.print(f"[red]{url}: {exc.__class__.__name__}[/red]")
        raise typer.Exit(1) from exc
    if status != 200:
        console.print(f"[red]{url}: HTTP {status}[/red]")
        raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            console.print(f"[red]setting {where}:[/red] {err['msg']}")
        raise typer.Exit(2) from exc


@app.command()
def serve() -> None:
    """Run the service: webhooks, Slack endpoints, workers (and the sandbox without Slack)."""
    from bot.app import build_http_app, build_service
    from bot.runtime.logging_setup import configure_logging

    settings = _settings()
    configure_logging(
        fmt=settings.log_format,
        level=settings.log_level,
        access_log=settings.access_log,
        cache_loggers=True,
        background_writer=True,
    )
    try:
        service = build_service(settings)
    except PolicyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    http_app = build_http_app(service)
    if settings.sandbox:
        _sandbox_banner(settings)
    uvicorn.Server(server_config(http_app, settings)).run()


def server_config(http_app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """uvicorn's limits. It has no timeout for headers or bodies: bodies get one from the app
    (``TOCSIN_BODY_TIMEOUT_SECONDS``, bot.http.body_deadline); headers need the proxy's."""
    return uvicorn.Config(
        http_app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
        timeout_graceful_shutdown=5,  # + up to 3 s for the workers: out within 10 s
        timeout_keep_alive=5,  # an idle keep-alive connection is closed after 5 s
        h11_max_incomplete_event_size=16 * 1024,  # headers, if uvicorn falls back to h11
    )


def _sandbox_banner(settings: Settings) -> None:
    base = settings.base_url()
    token = (
        settings.webhook_token.get_secret_value() if settings.webhook_token else DEV_WEBHOOK_TOKEN
    )
    console.print(
        f"""
[bold]Tocsin is running with the local Slack sandbox[/bold] (no SLACK_BOT_TOKEN is set).
  Open the sandbox:    {base}/sandbox/
  Post a test alert:
    curl -sS -X POST {base}/webhooks/generic -H 'Authorization: Bearer {token}' \\
      -H 'Content-Type: application/json' \\
      -d '{{"title": "Checkout error rate high", "severity": "critical",
           "description": "5xx above 8% for 10 minutes", "labels": {{"service": "checkout"}}}}'
""",
        highlight=False,
        soft_wrap=True,
    )


@app.command("check-config")
def check_config(
    path: Annotated[
        Path | None, typer.Argument(help="Policy file (default: TOCSIN_CONFIG)")
    ] = None,
) -> None:
    """Validate the policy file and explain every problem with its place in the file."""
    settings = _settings()
    target = path or settings.config_path
    try:
        policy = load_policy(target, env=settings.policy_environment())
    except PolicyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]{target}: OK[/green] — {len(policy.integrations)} integration(s), "
        f"{len(policy.grading)} grading rule(s), {len(policy.routes)} route(s), "
        f"{len(policy.teams)} team(s)"
    )


@policy_app.command("simulate")
def policy_simulate(
    policy: Annotated[str | None, typer.Option(help="Policy name from the policy file")] = None,
    team: Annotated[str | None, typer.Option(help="Use the policy of this team's route")] = None,
    level: Annotated[int, typer.Option(min=1, max=3, help="Alert level (1 = most severe)")] = 1,
) -> None:
    """Print who would be paged when, if nobody acts, with the real state machine."""
    from bot.policy.directory import PolicyDirectory
    from bot.policy.rules import build_rules
    from bot.runtime.clock import system_clock
    from bot.schedule.calendar_rotations import calendar_files
    from bot.slack.blocks.command_text import simulate_lines

    settings = _settings()
    try:
        loaded = load_policy(settings.config_path, env=settings.policy_environment())
    except PolicyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    rules = build_rules(loaded)
    name = policy
    if name is None and team is not None:
        routes = [r for r in loaded.routes if r.team == team]
        name = routes[0].policy if routes else loaded.default_route.policy
    name = name or loaded.default_route.policy
    if name not in rules.policies:
        console.print(f"[red]no policy named {name!r}; known: {', '.join(rules.policies)}[/red]")
        raise typer.Exit(2)
    now = system_clock()
    fed, notes = calendar_files(loaded, base_dir=settings.config_path.parent, now=now)
    directory = PolicyDirectory(loaded, calendars=lambda: fed)
    missing = asyncio.run(_with_stored_overrides(settings, directory))
    for note in notes:
        print(f"note: {note}")
    print(f"If nobody acts on a level {level} alert under policy {name!r}:")
    for line in simulate_lines(rules, directory, name, level, now=now):
        print(line)
    if missing:
        print(missing)


async def _with_stored_overrides(settings: Settings, directory: PolicyDirectory) -> str | None:
    """Layer the overrides made from Slack into ``directory`` when the configured database is
    there; without one the simulation uses the policy file alone: what to say about it."""
    from bot.policy.stored_overrides import StoredOverrides
    from bot.runtime.clock import system_clock
    from storage.existing import DatabaseNotReady, open_existing

    try:
        db = await open_existing(settings.async_database_url())
    except DatabaseNotReady as exc:
        return f"(overrides made from Slack not included: {exc})"
    try:
        await StoredOverrides(db=db, directory=directory, clock=system_clock).refresh()
    finally:
        await db.dispose()
    return None


@app.command("send-test")
def send_test(
    url: Annotated[str, typer.Option(help="Base URL of a running Tocsin")] = "",
    token: Annotated[
        str | None,
        typer.Option(help="Webhook token for every integration (default: each one's own)"),
    ] = None,
) -> None:
    """Post a sample alert to each integration of the policy file (in its format; template
    integrations are skipped) and report the answers. Reads the same policy file
    (TOCSIN_CONFIG) as the instance at --url."""
    import hashlib
    import hmac
    import json
    import time
    import uuid

    import httpx

    from bot.http.docs.samples import samples
    from bot.runtime.clock import system_clock

    settings = _settings()
    policy = _policy(settings)
    base = (url or settings.base_url()).rstrip("/")
    payloads = samples(now=system_clock(), run=uuid.uuid4().hex[:8])
    failed = False
    for integration in policy.integrations:
        name = f"{integration.name} ({integration.format})"
        if integration.template is not None:  # its body is its own tool's: no sample fits
            console.print(
                f"{name}: skipped — try a body of its tool with "
                f"`tocsin integration test {integration.name} <payload.json>`"
            )
            continue
        if integration.format == "cloudwatch_sns":
            console.print(
                f"[yellow]{name}: skipped: only Amazon SNS can sign its messages; "
                "publish to the topic instead (docs/sources.md)[/yellow]"
            )
            continue
        body = json.dumps(payloads[integration.format]).encode()
        headers = {
            "Authorization": f"Bearer {token or integration.token}",
            "Content-Type": "application/json",
        }
        if integration.hmac_secret is not None:  # Grafana's signed contact point
            signed = body
            if integration.timestamp_header is not None:
                stamp = str(int(time.time()))
                headers[integration.timestamp_header] = stamp
                signed = f"{stamp}:".encode() + body
            digest = hmac.new(integration.hmac_secret.encode(), signed, hashlib.sha256)
            headers[integration.signature_header] = digest.hexdigest()
        target = f"{base}/webhooks/{integration.name}"
        try:
            response = httpx.post(target, content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            console.print(f"[red]{name}: cannot reach {target}: {exc}[/red]")
            failed = True
            continue
        ok = response.status_code == 202
        failed = failed or not ok
        colour = "green" if ok else "red"
        console.print(f"[{colour}]{name}: HTTP {response.status_code}[/{colour}] {response.text}")
    if failed:
        raise typer.Exit(1)


@app.command()
def report(
    period: Annotated[str, typer.Argument(help="7d, 30d, 24h or YYYY-MM-DD..YYYY-MM-DD")] = "7d",
    team: Annotated[str | None, typer.Option(help="Only this team")] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", case_sensitive=False, help="Output format")
    ] = ReportFormat.text,
) -> None:
    """Review figures for a period: alerts, pages, escalations, approvals, MTTA/MTTR (median,
    p90), acknowledged in time — overall and by team, level, category, route, source and
    person; night/weekend pages; root causes; noisiest and flapping alerts."""
    from bot.review.report_format import render
    from bot.review.reports import make_review, report_zone
    from bot.runtime.clock import system_clock
    from escalation.review.period import parse_period
    from storage.review.facts import ReviewFilter, count_alerts

    settings = _settings()
    loaded = _policy(settings)
    if team is not None and loaded.teams and team not in loaded.teams:
        console.print(f"[red]--team: no team {team!r}; known: {', '.join(loaded.teams)}[/red]")
        raise typer.Exit(2)
    try:
        since, until = parse_period(period, now=system_clock(), zone=report_zone(loaded, team))
    except ValueError as exc:
        console.print(f"[red]period: {exc}[/red]")
        raise typer.Exit(2) from exc
    spec = ReviewFilter(since=since, until=until, team=team)

    async def run() -> dict[str, Any]:
        db = await open_for_reading(settings, console=console)
        try:
            total = await count_alerts(db, spec)
            with progress_bar(console) as progress:
                task = progress.add_task("reading alerts", total=total)
                review = await make_review(
                    db, loaded, spec, progress=lambda n: progress.advance(task, n)
                )
                progress.update(task, description="done")
        finally:
            await db.dispose()
        return review.as_dict()

    names = {user: person.name for user, person in loaded.people.items()}
    print(render(asyncio.run(run()), fmt=fmt.value, names=names), end="")


def _policy(settings: Settings) -> Any:
    try:
        return load_policy(settings.config_path, env=settings.policy_environment())
    except PolicyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def export(
    since: Annotated[
        str | None, typer.Option(help="Only alerts fired since (YYYY-MM-DD or ISO time)")
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", case_sensitive=False, help="Output format")
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout)")
    ] = None,
) -> None:
    """Every alert with its timeline and resolution, as JSON lines or CSV."""
    import sys
    from datetime import UTC, datetime

    from bot.review.export_format import csv_header, csv_line, jsonl_line
    from storage.review.export import count_exported, export_alerts

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError as exc:
            console.print(f"[red]--since: {since!r} is not a date or ISO time[/red]")
            raise typer.Exit(2) from exc
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    settings = _settings()
    as_csv = fmt is ExportFormat.csv

    async def run() -> int:
        db = await open_for_reading(settings, console=console)
        written = 0
        # opened only once the database is known good: a refused run leaves no empty file
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            with progress_bar(console) as progress:
                task = progress.add_task(
                    "exporting alerts", total=await count_exported(db, since=start)
                )
                if as_csv:
                    out.write(csv_header())
                async for record in export_alerts(db, since=start):
                    out.write(csv_line(record) if as_csv else jsonl_line(record))
                    written += 1
                    if written % 100 == 0:  # the bar redraws 10 times a second anyway
                        progress.update(task, completed=written)
                progress.update(task, completed=written)
        finally:
            if output:
                out.close()
            await db.dispose()
        return written

    count = asyncio.run(run())
    console.print(f"exported {count} alert(s)")


@app.command()
def noise(
    period: Annotated[str, typer.Argument(help="7d, 30d, 24h or YYYY-MM-DD..YYYY-MM-DD")] = "7d",
) -> None:
    """Metric alerts dropped as noise (inside a grading rule's noise band) and last dropped
    in the period: when, how many times, the metric's last value and baseline."""
    from bot.runtime.clock import system_clock
    from bot.slack.blocks.noise_text import noise_row
    from escalation.review.period import parse_period
    from storage.noise.dropped import noise_since

    try:
        since, _ = parse_period(period, now=system_clock())
    except ValueError as exc:
        console.print(f"[red]period: {exc}[/red]")
        raise typer.Exit(2) from exc
    settings = _settings()

    async def run() -> list[str]:
        db = await open_for_reading(settings, console=console)
        try:
            return [noise_row(item) for item in await noise_since(db, since=since, limit=1000)]
        finally:
            await db.dispose()

    lines = asyncio.run(run())
    print("\n".join(["last dropped      times  metric  last value  alert", *lines]))
    if not lines:
        print("(nothing dropped as noise in the period)")


FEED_HELP = "A rotation's name or a person's Slack user id"


@calendar_app.command("url")
def calendar_url(feed: Annotated[str, typer.Argument(help=FEED_HELP)]) -> None:
    """Print the URL to subscribe to a rotation's or a person's on-call calendar (at
    TOCSIN_PUBLIC_URL). It holds the feed's secret token: share it like a password."""
    print(_calendar_feed_url(feed, rotate=False))


@calendar_token_app.command("rotate")
def calendar_token_rotate(feed: Annotated[str, typer.Argument(help=FEED_HELP)]) -> None:
    """Give a feed a new token and print its new URL; the old URL stops working at once
    (calendars subscribed to it must subscribe again)."""
    url = _calendar_feed_url(feed, rotate=True)
    console.print("[green]new token: the old URL no longer works[/green]")
    print(url)


def _calendar_feed_url(name: str, *, rotate: bool) -> str:
    from bot.runtime.clock import system_clock
    from bot.schedule.feeds import OnCallCalendars
    from bot.schedule.tokens import feed_token, subscribe_url
    from storage.calendar_feeds import calendar_key, feed_generation, rotate_feed

    settings = _settings()
    calendars = OnCallCalendars.from_policy(_policy(settings))
    feed = calendars.find(name)
    if feed is None:
        known = ", ".join(sorted(calendars.rotations)) or "none"
        console.print(
            f"[red]no rotation or person {name!r} in the policy file (rotations: {known}; "
            "a person is a Slack user id under people or in a rotation)[/red]"
        )
        raise typer.Exit(2)

    async def run() -> str:
        db = await open_for_reading(settings, console=console)
        try:
            now = system_clock()
            key = await calendar_key(db, now=now)
            if rotate:
                generation = await rotate_feed(db, feed.key, now=now)
            else:
                generation = await feed_generation(db, feed.key)
        finally:
            await db.dispose()
        return subscribe_url(settings.base_url(), feed, feed_token(key, feed, generation))

    return asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the newest."""
    from storage.db import Database

    settings = _settings()

    async def run() -> None:
        db = Database(settings.async_database_url())
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(run())
    console.print("[green]database is up to date[/green]")


def main() -> None:
    app()
