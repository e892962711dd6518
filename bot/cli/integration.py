"""``tocsin integration …``: try an integration of the policy file without a running Tocsin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from config.settings import Settings

integration_app = typer.Typer(help="The policy file's integrations.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@integration_app.command("test")
def integration_test(
    name: Annotated[str, typer.Argument(help="The integration's name in the policy file")],
    payload: Annotated[Path, typer.Argument(help="A JSON file: the body the tool would send")],
    config: Annotated[
        Path | None, typer.Option(help="Policy file (default: TOCSIN_CONFIG)")
    ] = None,
) -> None:
    """Print the alert(s) a body would become at an integration — parsed by its format (or
    its template), graded and routed — or what is missing from it. Posts nothing and opens
    no database. Exit code 1 when the body is refused, 2 when the command cannot run."""
    from bot.http.intake.body_checks import BodyRefused, decode_json
    from bot.policy.policy_file import load_policy
    from bot.policy.preview import describe, preview
    from bot.policy.rules import build_rules
    from bot.runtime.clock import system_clock
    from config.policy import PolicyError
    from escalation.errors import MissingFieldsError, PayloadError

    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(f"settings: {exc.errors()[0]['msg']}", code=2)
    try:
        policy = load_policy(config or settings.config_path, env=settings.policy_environment())
        rules = build_rules(policy)
    except PolicyError as exc:
        _fail(str(exc), code=2)
    if name not in rules.integrations:
        _fail(f"no integration named {name!r}; known: {', '.join(rules.integrations)}", code=2)
    try:
        raw = payload.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {payload}: {exc.strerror or exc}", code=2)
    try:
        body = decode_json(raw)
    except BodyRefused as refusal:
        where = f" ({refusal.field})" if refusal.field else ""
        _fail(f"refused (HTTP {refusal.status}): {refusal.message}{where}", code=1)
    try:
        previews = preview(rules, name, body, now=system_clock())
    except PayloadError as exc:
        missing = exc.fields if isinstance(exc, MissingFieldsError) else (exc.field,)
        where = ", ".join(place for place in missing if place)
        _fail(
            f"refused (HTTP 422): {exc.problem}" + (f"\n  field: {where}" if where else ""),
            code=1,
        )
    fmt = rules.integrations[name].format
    console.print(
        escape(f"{name} ({fmt}): this body would become {len(previews)} alert(s); nothing sent"),
        highlight=False,
    )
    for line in describe(rules, previews):
        console.print(escape(line), highlight=False, soft_wrap=True)


def _fail(message: str, *, code: int) -> typer.Exit:
    errors.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
