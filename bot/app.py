"""The composition root: settings in, a running service out. Nothing is built at import."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.types import ASGIApp

from bot.delivery.deliveries import Deliveries
from bot.delivery.lanes import LaneGate, Pacing
from bot.delivery.outbound import OutboundPager, OutboundTarget
from bot.delivery.outbox_sender import OutboxSender
from bot.delivery.posting import Poster
from bot.delivery.slack_health import FaultyWebClient, HealthReportingWebClient, SlackHealth
from bot.delivery.storm_control import StormControl, storm_rules
from bot.http.body_deadline import BodyDeadline
from bot.http.docs.api_browser import add_api_browser
from bot.http.docs.openapi import READY_RESPONSES, document
from bot.http.intake.heartbeats import heartbeat_router
from bot.http.intake.rate_limit import RateLimiter
from bot.http.intake.sns import SnsEndpoint
from bot.http.intake.webhooks import WebhookFastPath, webhook_router
from bot.http.request_id import RequestIdMiddleware
from bot.http.same_origin import cross_site_problem
from bot.http.slash_redirect import relative_slash_redirects
from bot.policy.access import AccessPolicy
from bot.policy.directory import PolicyDirectory
from bot.policy.live import LivePolicy, Snapshot
from bot.policy.people_lookup import PeopleLookup, SlackPeople
from bot.policy.policy_file import load_snapshot
from bot.policy.rules import Rules
from bot.policy.starting import SandboxPeople, sandbox_people_named, start_policy
from bot.policy.stored_overrides import StoredOverrides, announce_channels
from bot.review.web import build_review_web
from bot.runtime.clock import Clock, system_clock
from bot.runtime.faults import FaultPoints
from bot.runtime.heap import freeze_startup_objects
from bot.runtime.metrics import CountingWebClient, Metrics
from bot.runtime.version import tocsin_version
from bot.runtime.wakeup import Fanout, Wakeup
from bot.sandbox import SandboxStateFile, SlackWorld, build_sandbox_app
from bot.schedule.calendar_rotations import CalendarRotations
from bot.schedule.feeds import OnCallCalendars
from bot.schedule.page import ScheduleWeb
from bot.schedule.web import CalendarFeedWeb, stored_calendar_overrides
from bot.slack.acting import Acting
from bot.slack.listeners.buttons import Listeners
from bot.slack.listeners.command import CommandListener
from bot.slack.listeners.escalation import EscalationListeners
from bot.slack.listeners.record import RecordListeners
from bot.slack.listeners.report_command import ReportCommand
from bot.slack.listeners.storm import StormListener
from bot.slack.request_checks import SlackRequestChecks
from bot.slack.socket_mode import SocketModeRunner
from bot.slack.team_check import check_team
from bot.workers.digest import WeeklyDigest
from bot.workers.escalation_engine import EscalationEngine
from bot.workers.follow_up_reminders import FollowUpReminders
from bot.workers.handoffs import Handoffs
from bot.workers.heartbeats import Heartbeats
from bot.workers.inbox_worker import InboxWorker
from bot.workers.policy_reload import PolicyReloader
from bot.workers.retention import InboxRetention
from config.policy import PolicyFile
from config.settings import DEFAULT_SLACK_API_URL, Settings
from storage.db import Database
from storage.intake.inbox import InboxWriter
from storage.upkeep.checkpoints import WalCheckpointer
from storage.upkeep.recovery import release_claims

log = structlog.get_logger("tocsin")


@dataclass
class Service:
    settings: Settings
    policy: PolicyFile
    rules: Rules
    db: Database
    slack: AsyncWebClient
    bolt: AsyncApp
    inbox_worker: InboxWorker
    outbox_sender: OutboxSender
    inbox_wakeup: Wakeup
    outbox_wakeup: Wakeup
    engine: EscalationEngine
    engine_wakeup: Wakeup
    heartbeats: Heartbeats
    directory: PolicyDirectory
    http: httpx.AsyncClient
    metrics: Metrics
    live: LivePolicy
    reloader: PolicyReloader
    clock: Clock = system_clock
    world: SlackWorld | None = None
    sandbox_file: SandboxStateFile | None = None
    follow_ups: FollowUpReminders | None = None
    retention: InboxRetention | None = None
    digest: WeeklyDigest | None = None
    calendar_rotations: CalendarRotations | None = None
    sns: SnsEndpoint = field(default_factory=SnsEndpoint)
    """Amazon SNS's signatures and handshake (tests give it a fake SNS as its client)."""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stored_overrides: StoredOverrides | None = None


def slack_api_url(settings: Settings) -> str:
    if settings.sandbox and settings.slack_api_url == DEFAULT_SLACK_API_URL:
        return f"{settings.base_url()}/sandbox/api/"
    return settings.slack_api_url.rstrip("/") + "/"


def build_service(settings: Settings, *, clock: Clock = system_clock) -> Service:
    live = LivePolicy(load_snapshot(settings.config_path, env=settings.policy_environment()))
    policy, rules = live.current.policy, live.current.rules
    db = Database(settings.async_database_url())
    metrics = Metrics()
    slack = CountingWebClient(
        token=settings.bot_token(),
        base_url=slack_api_url(settings),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )
    slack.metrics = metrics
    faults = FaultPoints(settings.fault_point)
    health = SlackHealth(metrics=metrics, clock=clock)
    bolt = AsyncApp(
        signing_secret=settings.signing_secret(),
        client=slack,
        raise_error_for_unhandled_request=False,
    )
    check_team(bolt, team_ids=settings.slack_team_id, refused=metrics.refuse)
    inbox_wakeup, outbox_wakeup, engine_wakeup = Wakeup(), Wakeup(), Wakeup()
    changed = Fanout(outbox_wakeup, engine_wakeup)
    http = httpx.AsyncClient()
    world = SlackWorld(public_url=f"{settings.base_url()}/sandbox") if settings.sandbox else None
    # emails in the policy file (at a reload) and in calendar feeds: one lookup, one cache
    people: PeopleLookup = SlackPeople(slack) if world is None else SandboxPeople(world)
    calendar_rotations = CalendarRotations(
        policy,
        db=db,
        clock=clock,
        http=http,
        metrics=metrics,
        base_dir=settings.config_path.parent,
        people=people,
    )
    directory = PolicyDirectory(policy, calendars=calendar_rotations.current)
    stored_overrides = StoredOverrides(db=db, directory=directory, clock=clock)
    access = AccessPolicy(policy)
    acting = Acting(
        db=db,
        rules=rules,
        clock=clock,
        on_change=changed.set,
        directory=directory,
        access=access,
        refused=metrics.refuse,
        stored_overrides=stored_overrides,
    )
    Listeners(acting).register(bolt)
    EscalationListeners(acting).register(bolt)
    report = ReportCommand(db=db, policy=policy, clock=clock, access=access, refused=metrics.refuse)
    override_channels = announce_channels(policy)
    CommandListener(acting, report=report, override_channels=override_channels).register(bolt)
    RecordListeners(acting).register(bolt)
    StormListener(acting).register(bolt)
    inbox_worker = InboxWorker(
        db=db,
        rules=rules.ingest,
        clock=clock,
        wakeup=inbox_wakeup,
        on_processed=changed,
        poll_seconds=settings.inbox_poll_seconds,
        metrics=metrics,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        batch_bodies=settings.inbox_batch_bodies,
        batch_events=settings.inbox_batch_events,
        directory=directory,
        refresh_overrides=stored_overrides.refresh,
        faults=faults,
    )
    webhooks = outbound_targets(policy)
    levels = dict(rules.levels)  # refilled by a reload, like the two below
    handoff_channels = rotation_channels(policy)
    # Deliveries handle 429s per channel themselves (bot.delivery.lanes): no sleeping retry handler.
    delivery_slack = (FaultyWebClient if settings.fault_point else HealthReportingWebClient)(
        token=settings.bot_token(),
        base_url=slack_api_url(settings),
        timeout=int(settings.slack_timeout_seconds),
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2)],
    )
    delivery_slack.metrics = metrics
    delivery_slack.health = health
    if isinstance(delivery_slack, FaultyWebClient):
        delivery_slack.faults = faults
    # on PostgreSQL (several replicas) Slack's pace per conversation is shared through the
    # database: each replica pacing itself would write up to N times the rate into one DM
    gate = Pacing(
        LaneGate(rate=settings.slack_channel_rate, burst=settings.slack_channel_burst),
        shared=None if db.is_sqlite else db,
    )
    poster = Poster(delivery_slack, metrics=metrics)
    storm_rules_, storm_display = storm_rules(policy.storm)
    storm_control = StormControl(
        db=db,
        client=delivery_slack,
        rules=storm_rules_,
        display=storm_display,
        levels=levels,
        gate=gate,
        clock=clock,
        poster=poster,
    )
    deliveries = Deliveries(
        db=db,
        client=delivery_slack,
        levels=levels,
        clock=clock,
        pager=OutboundPager(client=http),
        webhooks=webhooks,
        recent_days=rules.last_time_days,
        poster=poster,
    )
    sender = OutboxSender(
        db=db,
        deliveries=deliveries,
        clock=clock,
        wakeup=outbox_wakeup,
        poll_seconds=settings.outbox_poll_seconds,
        metrics=metrics,
        gate=gate,
        storms=storm_control,
        health=health,
        faults=faults,
        lease=timedelta(seconds=settings.claim_lease_seconds),
    )
    heartbeats = Heartbeats(db=db, rules=rules.ingest, clock=clock, on_change=changed)
    engine = EscalationEngine(
        db=db,
        directory=directory,
        clock=clock,
        wakeup=engine_wakeup,
        on_stepped=outbox_wakeup,
        safety_seconds=settings.escalation_tick_seconds,
        handoffs=Handoffs(
            db=db,
            client=slack,
            directory=directory,
            channels=handoff_channels,
            clock=clock,
            refresh_overrides=stored_overrides.refresh,
        ),
        refresh_overrides=stored_overrides.refresh,
        metrics=metrics,
        faults=faults,
        heartbeats=heartbeats,
    )
    digest = WeeklyDigest(db=db, policy=policy, client=slack, clock=clock)
    service = Service(
        settings=settings,
        policy=policy,
        rules=rules,
        db=db,
        slack=slack,
        bolt=bolt,
        inbox_worker=inbox_worker,
        outbox_sender=sender,
        inbox_wakeup=inbox_wakeup,
        outbox_wakeup=outbox_wakeup,
        engine=engine,
        engine_wakeup=engine_wakeup,
        heartbeats=heartbeats,
        directory=directory,
        stored_overrides=stored_overrides,
        http=http,
        metrics=metrics,
        live=live,
        reloader=PolicyReloader(
            live=live,
            env=settings.policy_environment(),
            people=people,
            metrics=metrics,
            slack=slack,
        ),
        clock=clock,
        world=world,
        sandbox_file=sandbox_state_file(settings),
        follow_ups=FollowUpReminders(
            db=db, clock=clock, every_seconds=rules.follow_up_every_seconds, on_queued=outbox_wakeup
        ),
        retention=InboxRetention(db=db, clock=clock, days=settings.inbox_retention_days),
        digest=digest,
        calendar_rotations=calendar_rotations or None,
    )

    def follow(snapshot: Snapshot) -> None:
        """Everything built from the policy switches with it, in one step (bot.policy.live);
        storm rules, the follow-up interval and the digests' schedule change with a restart."""
        new_policy, new_rules = snapshot.policy, snapshot.rules
        directory.reload(new_policy)
        access.reload(new_policy)
        acting.rules = new_rules
        inbox_worker.use_rules(new_rules.ingest)
        heartbeats.use_rules(new_rules.ingest)
        _refill(levels, new_rules.levels)
        _refill(webhooks, outbound_targets(new_policy))
        _refill(handoff_channels, rotation_channels(new_policy))
        _refill(override_channels, announce_channels(new_policy))
        report.use_policy(new_policy)
        digest.use_policy(new_policy)
        service.policy, service.rules = new_policy, new_rules

    live.subscribe(follow)
    live.subscribe(lambda _: sandbox_people_named(live, sandbox=settings.sandbox))
    return service


def outbound_targets(policy: PolicyFile) -> dict[str, OutboundTarget]:
    return {
        name: OutboundTarget(
            name=name,
            url=hook.url,
            token=hook.token,
            hmac_secret=hook.hmac_secret,
            timeout_seconds=float(hook.timeout),
        )
        for name, hook in policy.webhooks.items()
    }


def rotation_channels(policy: PolicyFile) -> dict[str, str]:
    return {n: r.channel for n, r in policy.rotations.items() if r.channel}


def _refill(held: dict[Any, Any], new: Mapping[Any, Any]) -> None:
    """Change a dict its holders keep in place (no holder sees it empty: no await here)."""
    held.clear()
    held.update(new)


def sandbox_state_file(settings: Settings) -> SandboxStateFile | None:
    """The file the sandbox is kept in across restarts (beside a SQLite database file)."""
    path = settings.sandbox_state_path() if settings.sandbox else None
    return SandboxStateFile(path) if path is not None else None


WORKER_STOP_SECONDS = 3.0


async def stop_workers(service: Service) -> None:
    """Graceful stop: each worker finishes the item it holds and returns; whatever is still
    running after WORKER_STOP_SECONDS is cancelled (its rows are picked up again later)."""
    for wakeup in (service.inbox_wakeup, service.outbox_wakeup, service.engine_wakeup):
        wakeup.stop()
    if service.calendar_rotations is not None:
        service.calendar_rotations.wakeup.stop()
    if service.tasks:
        _, late = await asyncio.wait(service.tasks, timeout=WORKER_STOP_SECONDS)
        for task in late:
            task.cancel()
        for task in service.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    service.tasks.clear()
    log.info("workers_stopped")


def build_http_app(
    service: Service, *, run_workers: bool = True, run_engine: bool = True
) -> ASGIApp:
    settings = service.settings
    # the bodies parsed at the door go to this process's inbox worker, when it runs
    inbox = InboxWriter(service.db, parsed=service.inbox_worker.parsed if run_workers else None)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await service.db.upgrade()
        if service.db.is_sqlite:  # the only instance: claims left in the database are stale
            released = await release_claims(service.db, now=service.clock())
            if any(released):
                log.info("stale_claims_released", inbox=released[0], outbox=released[1])
        await start_policy(
            service.live,
            env=settings.policy_environment(),
            people=service.reloader.people,
            sandbox=settings.sandbox,
        )
        if service.heartbeats.configured:
            try:  # a new heartbeat's clock starts at this start
                await service.heartbeats.sync()
            except Exception as exc:  # the database is away: the first check syncs
                log.warning("heartbeat_sync_deferred", error=repr(exc)[:200])
        kept = service.sandbox_file
        if kept is not None and service.world is not None and kept.load_into(service.world):
            log.info("sandbox_restored", path=str(kept.path), messages=len(service.world.messages))
        socket_mode: SocketModeRunner | None = None
        if settings.slack_app_token is not None and not settings.sandbox:
            socket_mode = SocketModeRunner(
                bolt=service.bolt, app_token=settings.slack_app_token.get_secret_value()
            )
            await socket_mode.start()  # SocketModeError stops start-up with a clear message
        checkpointer = WalCheckpointer.started_for(service.db)
        if run_workers and service.calendar_rotations is not None:
            service.tasks.append(asyncio.create_task(service.calendar_rotations.run()))
        if run_workers:
            service.tasks.append(asyncio.create_task(service.inbox_worker.run()))
            service.tasks.append(asyncio.create_task(service.outbox_sender.run()))
            if run_engine:
                service.tasks.append(asyncio.create_task(service.engine.run()))
                for timer in (service.follow_ups, service.retention):
                    if timer is not None:
                        service.tasks.append(asyncio.create_task(timer.run()))
                if service.digest is not None:
                    service.tasks.append(asyncio.create_task(service.digest.run()))
        stop_watching = asyncio.Event()
        watcher = (
            asyncio.create_task(service.reloader.watch(stop=stop_watching))
            if settings.policy_watch
            else None
        )
        service.reloader.listen_for_sighup()
        # what start-up built stays: out of the GC's full passes (~10% of a webhook's CPU
        # under load, ~15% of an escalation step's; see bot.runtime.heap)
        freeze_startup_objects()
        log.info(
            "tocsin_started",
            url=settings.base_url(),
            sandbox=settings.sandbox,
            socket_mode=socket_mode is not None,
        )
        try:
            yield
        finally:
            service.reloader.stop_listening()
            stop_watching.set()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if socket_mode is not None:
                await socket_mode.stop()
            await stop_workers(service)
            if service.sandbox_file is not None:
                service.sandbox_file.close()  # after the workers: their last posts are kept
            await inbox.close()
            if checkpointer is not None:
                await checkpointer.stop()
            await service.http.aclose()
            await service.sns.client.aclose()
            await service.db.dispose()

    app = FastAPI(
        title="Tocsin",
        summary="Alert dispatch and escalation for Slack",
        version=tocsin_version(),
        lifespan=lifespan,
        openapi_url=None,  # served by document(), per integration for token holders
        docs_url=None,
        redoc_url=None,
    )
    limiter = RateLimiter(
        {i.name: i.rate_limit or service.policy.rate_limit for i in service.policy.integrations}
    )
    webhooks = webhook_router(
        rules=lambda: service.live.current.rules,
        inbox=inbox,
        max_body_bytes=settings.max_body_bytes,
        clock=service.clock,
        on_stored=service.inbox_wakeup.set,
        public_url=settings.base_url(),
        metrics=service.metrics,
        limiter=limiter,
        heartbeat_ping=service.heartbeats.ping,
        sns=service.sns,
    )
    app.include_router(webhooks.router)
    app.include_router(
        heartbeat_router(
            current=lambda: (service.rules.ingest.heartbeats, service.rules.integrations),
            ping=service.heartbeats.ping,
            limiter=limiter,
        )
    )
    document(app, integrations=service.rules.integrations, holds_token=webhooks.holds_token)
    add_api_browser(app, title="Tocsin")
    review = build_review_web(settings, db=service.db, policy=service.policy, clock=service.clock)
    app.include_router(review.router())
    calendars = CalendarFeedWeb(
        db=service.db,
        calendars=OnCallCalendars.from_policy(
            service.policy, rotations=service.directory.rotations
        ),
        clock=service.clock,
        public_url=settings.base_url(),
        overrides=stored_calendar_overrides(service.stored_overrides),
    )
    app.include_router(calendars.router())
    schedule = ScheduleWeb(
        rotations=service.directory.policy_rotations,
        names={user: person.name for user, person in service.policy.people.items()},
        clock=service.clock,
        auth=review.auth,
        overrides=stored_calendar_overrides(service.stored_overrides),
        sources=service.calendar_rotations.sources if service.calendar_rotations else None,
    )
    app.include_router(schedule.router())

    def follow(snapshot: Snapshot) -> None:
        policy = snapshot.policy
        review.use_policy(policy)
        calendars.calendars = OnCallCalendars.from_policy(policy)
        limiter.use_limits({i.name: i.rate_limit or policy.rate_limit for i in policy.integrations})
        schedule.rotations = service.directory.policy_rotations
        schedule.names = {user: person.name for user, person in policy.people.items()}

    service.live.subscribe(follow)
    slack_handler = AsyncSlackRequestHandler(service.bolt)
    slack_checks = SlackRequestChecks(
        signing_secret=settings.signing_secret(),
        max_body_bytes=settings.max_body_bytes,
        metrics=service.metrics,
    )

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        admitted = await slack_checks.admit(request)
        if isinstance(admitted, Response):
            return admitted
        return await slack_handler.handle(admitted)

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={401: {"description": "TOCSIN_METRICS_TOKEN is set and was not sent"}},
    )
    async def metrics(request: Request) -> Response:
        if settings.metrics_token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            wanted = settings.metrics_token.get_secret_value().encode()
            right = hmac.compare_digest(given.strip().encode(), wanted)
            if scheme.lower() != "bearer" or not right:
                return JSONResponse(
                    {"error": "send TOCSIN_METRICS_TOKEN as Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="tocsin-metrics"'},
                )
        body = await service.metrics.render(service.db, now=service.clock())
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get(
        "/healthz", tags=["health"], summary="The process is up", response_class=PlainTextResponse
    )
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Database reachable, migrations applied",
        responses=READY_RESPONSES,
    )
    async def readyz() -> JSONResponse:
        try:
            current = await service.db.migrations_current()
        except Exception as exc:
            return JSONResponse(
                {"ready": False, "database": f"unreachable: {type(exc).__name__}"}, status_code=503
            )
        if not current:
            return JSONResponse({"ready": False, "database": "migrations pending"}, status_code=503)
        # Slack being down does not make this instance unready (webhooks are still stored),
        # but it is shown: deliveries wait until Slack answers again.
        slack = service.outbox_sender.health.report(service.clock())
        config = service.live.report()
        body: dict[str, object] = {
            "ready": True,
            "database": "ok",
            "slack": slack,
            "config": config,
        }
        if service.calendar_rotations is not None:  # a stale feed pages from its last copy
            body["calendars"] = service.calendar_rotations.report()
        return JSONResponse(body)

    if service.world is not None:
        base = settings.base_url()
        app.mount(
            "/sandbox",
            build_sandbox_app(
                service.world,
                bot_token=settings.bot_token(),
                signing_secret=settings.signing_secret(),
                events_url=f"{base}/slack/events",
                public_url=f"{base}/sandbox",
                page_guard=partial(cross_site_problem, public_url=base),
            ),
        )
    relative_slash_redirects(app.router)
    # outermost: every request gets its id; bodies get a deadline; webhooks then skip
    # FastAPI's stack
    return RequestIdMiddleware(
        BodyDeadline(WebhookFastPath(app, webhooks=webhooks), seconds=settings.body_timeout_seconds)
    )
