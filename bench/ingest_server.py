"""Tocsin's HTTP service for the ingest benchmark, in its own OS process.

It is what ``tocsin serve`` runs — ``build_service`` + ``build_http_app`` under uvicorn with
the same options — with one switch: ``--no-workers`` leaves out the inbox worker, the outbox
sender and the escalation engine, so the figures are those of the intake path alone
(token, body cap, JSON, parser, inbox commit, 202). Settings come from the environment.
"""

from __future__ import annotations

import argparse

import uvicorn

from bot.app import build_http_app, build_service
from bot.cli import server_config
from bot.runtime.logging_setup import configure_logging
from config.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-workers", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    configure_logging(  # as ``tocsin serve`` does
        fmt=settings.log_format,
        level=settings.log_level,
        access_log=settings.access_log,
        cache_loggers=True,
        background_writer=True,
    )
    service = build_service(settings)
    app = build_http_app(service, run_workers=not args.no_workers)
    uvicorn.Server(server_config(app, settings)).run()


if __name__ == "__main__":
    main()
