# syntax=docker/dockerfile:1
# Tocsin: multi-stage build, slim runtime, non-root user.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/tocsin
# The locked dependencies first (a layer that changes only with the lock), then Tocsin itself.
# requirements-charts.lock is the service's lock plus matplotlib (the weekly digest's chart).
COPY requirements-charts.lock ./
RUN /opt/tocsin/bin/pip install --upgrade pip \
 && /opt/tocsin/bin/pip install --require-hashes -r requirements-charts.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY escalation ./escalation
COPY storage ./storage
COPY config ./config
RUN /opt/tocsin/bin/pip install --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/tocsin/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TOCSIN_HOST=0.0.0.0 \
    TOCSIN_PORT=8080 \
    TOCSIN_DATABASE_URL=sqlite:////data/tocsin.db \
    TOCSIN_LOG_FORMAT=json
RUN groupadd --system --gid 10001 tocsin \
 && useradd --system --uid 10001 --gid 10001 --home /data tocsin \
 && mkdir -p /data /config && chown 10001:10001 /data
COPY --from=build /opt/tocsin /opt/tocsin
USER 10001:10001
WORKDIR /data
# /data: the SQLite database (unused on PostgreSQL). /config: mount your policy file and set
# TOCSIN_CONFIG=/config/policy.yaml (without it the shipped example is used).
VOLUME ["/data", "/config"]
EXPOSE 8080
# `tocsin healthcheck` asks /healthz on the port the service was given (TOCSIN_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["tocsin", "healthcheck"]
# Migrations: `tocsin serve` applies them at start (TOCSIN_MIGRATE_ON_START=true); with
# several replicas run `tocsin db upgrade` once instead (see compose.yaml).
CMD ["tocsin", "serve"]
