"""The schedule page, ``GET /schedule``: who is on call now and next in each rotation, the
coming two weeks as a timeline with overrides marked, and each person's upcoming shifts.

Server-rendered and read-only, behind the review page's sign-in (the review token, then its
signed cookie: bot.review.auth), with the same strict headers (no script may run). Without
``TOCSIN_REVIEW_TOKEN`` it is off, as the review is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from bot.review.auth import COOKIE, ReviewAuth
from bot.review.web import SECURITY_HEADERS
from bot.runtime.clock import Clock
from bot.schedule.schedule_view import schedule_view
from bot.schedule.web import OverrideSource, no_overrides
from escalation.oncall import Rotation

LOGIN = "/review/login?next=/schedule"


def _templates() -> Environment:
    return Environment(
        loader=ChoiceLoader(
            [PackageLoader("bot.schedule", "templates"), PackageLoader("bot.review", "templates")]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


class ScheduleWeb:
    def __init__(
        self,
        *,
        rotations: Mapping[str, Rotation],
        names: Mapping[str, str],
        clock: Clock,
        auth: ReviewAuth | None,
        overrides: OverrideSource = no_overrides,
        sources: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.rotations = rotations
        self.names = names
        self.clock = clock
        self.auth = auth
        self.overrides = overrides
        self.sources = sources
        self._env = _templates()

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/schedule", self.page, methods=["GET"], include_in_schema=False)
        return router

    async def page(self, request: Request) -> Response:
        if self.auth is None:
            body = self._env.get_template("disabled.html").render(root="", title="Schedule")
            return HTMLResponse(body, status_code=404, headers=SECURITY_HEADERS)
        if not self.auth.session_ok(request.cookies.get(COOKIE)):
            return RedirectResponse(LOGIN, status_code=303)
        now = self.clock()
        view = schedule_view(
            self.rotations,
            self.names,
            now=now,
            extra=await self.overrides(),
            sources=self.sources() if self.sources is not None else None,
        )
        body = self._env.get_template("schedule.html").render(
            root="", title="Schedule", heading="schedule", view=view, now=now
        )
        return HTMLResponse(body, headers=SECURITY_HEADERS)
