"""The review over HTTP: ``GET /api/reports`` (JSON, bearer review token) and the review page
``/review`` (server-rendered, read-only, behind a login form and a signed cookie), with its
CSV export. Without ``TOCSIN_REVIEW_TOKEN`` both are disabled and say so.

The page is streamed: its header and filters go out at once (the browser paints them while
the figures are computed), then the figures, the chart and the alert table. Everything from
alerts is escaped by Jinja2's autoescaping; the chart is an ``<img>`` of SVG (a data URI),
where no script can run; a strict Content-Security-Policy forbids scripts altogether.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.http.same_origin import cross_site_problem
from bot.review.auth import COOKIE, ReviewAuth
from bot.review.charts import review_chart_svg
from bot.review.export_format import csv_header, csv_line
from bot.review.login_limit import LoginLimiter
from bot.review.query import QueryError, review_filter
from bot.review.report_format import duration, period_line
from bot.review.reports import make_review, review_dict
from bot.runtime.clock import Clock
from config.policy import PolicyFile
from config.settings import Settings
from escalation.review.figures import DIMENSIONS
from storage.db import Database
from storage.review.export import export_alerts
from storage.review.facts import ReviewFilter

log = structlog.get_logger("tocsin.review")

ALERT_ROWS = 100
DISABLED = "the review is disabled: set TOCSIN_REVIEW_TOKEN to turn it on"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
AFTER_LOGIN = ("/review", "/schedule")
"""Where the login form may send its user on (``next``): these pages only, never elsewhere."""


def _next(value: str | None) -> str:
    return value if value in AFTER_LOGIN else "/review"


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.review", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        enable_async=False,
        trim_blocks=False,
    )
    env.globals["duration"] = duration
    env.globals["share"] = lambda v: "—" if v is None else f"{v:.0%}"
    return env


_ERROR_JSON: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
        }
    }
}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


REPORT_PARAMETERS: list[dict[str, Any]] = [
    _query("period", "7d, 30d, 24h or YYYY-MM-DD..YYYY-MM-DD (default 7d); not with from/to"),
    _query("from", "start: YYYY-MM-DD (in the team's time zone) or an ISO time"),
    _query("to", "end (default now): YYYY-MM-DD, the whole day, or an ISO time; needs from"),
    _query("team", "a team of the policy file"),
    _query("level", "1, 2 or 3", enum=["1", "2", "3"]),
    _query("category", "process, data, customer, market, financial or your own"),
]
"""The query parameters of ``GET /api/reports`` (read by bot.review.query.review_filter);
at most 400 days."""

REPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a bad filter; `field` names it", "content": _ERROR_JSON},
    401: {"description": "no or wrong review token", "content": _ERROR_JSON},
    404: {"description": "the review is off (no TOCSIN_REVIEW_TOKEN)", "content": _ERROR_JSON},
}


class ReviewWeb:
    def __init__(
        self,
        *,
        db: Database,
        policy: PolicyFile,
        clock: Clock,
        auth: ReviewAuth | None,
        public_url: str = "",
        limiter: LoginLimiter | None = None,
    ) -> None:
        self._public_url = public_url
        self._limiter = limiter or LoginLimiter()
        self._db = db
        self._policy = policy
        self._clock = clock
        self._auth = auth
        self._env = _templates()
        self._env.globals["person"] = self._person
        self._env.globals["mentions"] = self._mentions

    def use_policy(self, policy: PolicyFile) -> None:
        """Show and filter by ``policy`` from the next request on (a reloaded policy)."""
        self._policy = policy

    @property
    def auth(self) -> ReviewAuth | None:
        """The sign-in, shared with the schedule page (bot.schedule.page)."""
        return self._auth

    def _person(self, user: str | None) -> str:
        if not user:
            return "—"
        found = self._policy.people.get(user)
        return f"{found.name} ({user})" if found else user

    def _mentions(self, text: str) -> str:
        """Slack mentions in timeline lines as names; the result is escaped by the template."""

        def name(match: re.Match[str]) -> str:
            found = self._policy.people.get(match.group(1))
            return f"@{found.name}" if found else f"@{match.group(1)}"

        return _MENTION.sub(name, text)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/api/reports", self.api_reports, methods=["GET"], tags=["review"],
                             summary="Review figures for a period (JSON)",
                             responses=REPORT_ERRORS,
                             openapi_extra={"parameters": REPORT_PARAMETERS})  # fmt: skip
        router.add_api_route("/review", self.page, methods=["GET"], include_in_schema=False)
        router.add_api_route("/review/login", self.login_form, methods=["GET"],
                             include_in_schema=False)  # fmt: skip
        router.add_api_route("/review/login", self.login, methods=["POST"],
                             include_in_schema=False)  # fmt: skip
        router.add_api_route("/review/logout", self.logout, methods=["POST"],
                             include_in_schema=False)  # fmt: skip
        router.add_api_route("/review/export.csv", self.export_csv, methods=["GET"],
                             include_in_schema=False)  # fmt: skip
        return router

    # --- the API ---------------------------------------------------------------------

    async def api_reports(self, request: Request) -> JSONResponse:
        """``from``/``to`` (YYYY-MM-DD or ISO times) or ``period``; ``team``, ``level``,
        ``category``. ``Authorization: Bearer <TOCSIN_REVIEW_TOKEN>`` (or the page's cookie)."""
        if self._auth is None:
            return JSONResponse({"error": DISABLED}, status_code=404)
        if not (
            self._auth.bearer_ok(request.headers.get("authorization"))
            or self._auth.session_ok(request.cookies.get(COOKIE))
        ):
            return JSONResponse(
                {"error": "send the review token as Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="tocsin-review"'},
            )
        try:
            spec = review_filter(request.query_params, policy=self._policy, now=self._clock())
        except QueryError as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        review = await make_review(self._db, self._policy, spec)
        return JSONResponse(await review_dict(review), headers={"Cache-Control": "no-store"})

    # --- the page ----------------------------------------------------------------------

    def _html(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self._env.get_template(name).render(root="", title="Review", **context)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def _signed_in(self, request: Request) -> bool:
        return self._auth is not None and self._auth.session_ok(request.cookies.get(COOKIE))

    async def login_form(self, request: Request) -> Response:
        if self._auth is None:
            return self._html("disabled.html", 404)
        target = _next(request.query_params.get("next"))
        if self._signed_in(request):
            return RedirectResponse(target, status_code=303)
        return self._html("login.html", next=target if target != "/review" else None)

    async def login(self, request: Request) -> Response:
        if self._auth is None:
            return self._html("disabled.html", 404)
        cross_site = cross_site_problem(request, public_url=self._public_url)
        if cross_site is not None:
            log.warning("review_login_refused", reason="cross_site")
            return self._html("login.html", 403, error=f"Not signed in: {cross_site}.")
        client = request.client.host if request.client else "unknown"
        wait = self._limiter.retry_after(client)
        if wait:
            log.warning("review_login_refused", reason="rate_limited", retry_after=wait)
            limited = self._html("login.html", 429, error=f"Too many tries: wait {wait} s.")
            limited.headers["Retry-After"] = str(wait)
            return limited
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        offered = (form.get("token") or [""])[0]
        target = _next((form.get("next") or [""])[0])
        if not offered or not self._auth.token_matches(offered):
            self._limiter.failed(client)
            shown = target if target != "/review" else None
            return self._html("login.html", 401, error="That is not the review token.", next=shown)
        value, lifetime = self._auth.new_session()
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            value,
            max_age=lifetime,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self._auth.secure,
        )
        return response

    async def logout(self, request: Request) -> Response:
        cross_site = cross_site_problem(request, public_url=self._public_url)
        if cross_site is not None:
            return self._html("login.html", 403, error=f"Not signed out: {cross_site}.")
        response = RedirectResponse("/review/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def page(self, request: Request) -> Response:
        if self._auth is None:
            return self._html("disabled.html", 404)
        if not self._signed_in(request):
            return RedirectResponse("/review/login", status_code=303)
        params = request.query_params
        form = {k: params.get(k, "") for k in ("from", "to", "team", "level", "category")}
        top = self._env.get_template("review_top.html")
        context: dict[str, Any] = {
            "root": "",
            "title": "Review",
            "form": form,
            "teams": list(self._policy.teams),
            "levels": [(n, level.name) for n, level in sorted(self._policy.levels.items())],
            "query": urlencode({k: v for k, v in form.items() if v}),
        }
        try:
            spec = review_filter(params, policy=self._policy, now=self._clock())
        except QueryError as exc:
            body = top.render(error=str(exc), **context) + "</main></body></html>"
            return HTMLResponse(body, status_code=400, headers=SECURITY_HEADERS)
        if not form["from"]:
            zone_since = spec.since.astimezone(spec.until.tzinfo)
            context["form"] = {**form, "from": zone_since.date().isoformat(),
                               "to": spec.until.date().isoformat()}  # fmt: skip
        return StreamingResponse(
            self._stream(top.render(error=None, **context), spec),
            media_type="text/html; charset=utf-8",
            headers=SECURITY_HEADERS,
        )

    async def _stream(self, head: str, spec: ReviewFilter) -> AsyncIterator[str]:
        yield head
        review = await make_review(self._db, self._policy, spec)
        data = await review_dict(review)
        names: dict[int, str] = {n: level.name for n, level in self._policy.levels.items()}
        svg = await asyncio.to_thread(review_chart_svg, review.series(), level_names=names)
        alerts = [
            a async for a in export_alerts(self._db, spec=spec, newest_first=True,
                                           limit=ALERT_ROWS)
        ]  # fmt: skip
        weekdays = ", ".join(self._policy.review.weekend)
        yield self._env.get_template("review_body.html").render(
            data=data,
            o=data["overall"],
            spec=spec,
            period=period_line(data),
            dimensions=DIMENSIONS,
            chart=Markup(base64.b64encode(svg).decode()),  # noqa: S704 - base64 only
            alerts=alerts,
            limit=ALERT_ROWS,
            weekend=weekdays,
        )

    async def export_csv(self, request: Request) -> Response:
        if self._auth is None:
            return self._html("disabled.html", 404)
        if not self._signed_in(request) and not self._auth.bearer_ok(
            request.headers.get("authorization")
        ):
            return RedirectResponse("/review/login", status_code=303)
        try:
            spec = review_filter(request.query_params, policy=self._policy, now=self._clock())
        except QueryError as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        name = f"tocsin-alerts-{spec.since:%Y%m%d}-{spec.until:%Y%m%d}.csv"
        return StreamingResponse(
            _csv_rows(self._db, spec),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )


async def _csv_rows(db: Database, spec: ReviewFilter) -> AsyncIterator[str]:
    yield csv_header()
    async for record in export_alerts(db, spec=spec):
        yield csv_line(record)


def build_review_web(
    settings: Settings, *, db: Database, policy: PolicyFile, clock: Clock
) -> ReviewWeb:
    token = settings.review_token.get_secret_value() if settings.review_token else ""
    auth = (
        ReviewAuth(
            token=token,
            clock=clock,
            session_seconds=settings.review_session_hours * 3600,
            secure=settings.base_url().startswith("https://"),
        )
        if token
        else None
    )
    return ReviewWeb(db=db, policy=policy, clock=clock, auth=auth, public_url=settings.base_url())
