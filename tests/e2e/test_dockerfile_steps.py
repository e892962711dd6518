"""No Docker engine runs here, so the Dockerfile is checked by doing what it says: copy what it
copies into a clean folder, install it the way it installs it into a fresh virtual
environment, run the migration command, start its CMD with its ENV, and run its HEALTHCHECK."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from config.environment import child_environment
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def build_stage_copies(text: str) -> list[str]:
    build = text.split("FROM ", 2)[1]
    copied: list[str] = []
    for line in build.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            copied.extend(line.split()[1:-1])
    return copied


def build_stage_installs(text: str, venv: Path) -> list[list[str]]:
    """The build stage's `pip install` commands, in order, aimed at ``venv``."""
    build = text.split("FROM ", 2)[1].replace("\\\n", " ")
    commands: list[list[str]] = []
    for line in build.splitlines():
        if not line.startswith("RUN "):
            continue
        for command in line[4:].split("&&"):
            words = shlex.split(command)
            if words[:2] == ["/opt/tocsin/bin/pip", "install"]:
                commands.append([str(venv / "bin" / "pip"), *words[1:]])
    return commands


def runtime_env(text: str) -> dict[str, str]:
    runtime = text.split("FROM ", 2)[2]
    block = re.search(r"^ENV (.+?)(?=^\S)", runtime, re.M | re.S)
    assert block, "the runtime stage sets ENV"
    pairs = shlex.split(block.group(1).replace("\\\n", " "))
    return dict(pair.split("=", 1) for pair in pairs)


def json_command(text: str, instruction: str) -> list[str]:
    """The JSON-form command of CMD, or of HEALTHCHECK's CMD (options may come first)."""
    pattern = rf"^{instruction}\b(?:[^\n]*\\\n)*?\s*(?:CMD\s+)?(\[.*\])\s*$"
    match = re.search(pattern, text, re.M)
    assert match, f"{instruction} uses the JSON form"
    command: list[str] = json.loads(match.group(1))
    return command


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    text = dockerfile()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert re.search(r"^USER (?!root|0\b)", text, re.M)
    assert json_command(text, "CMD") == ["tocsin", "serve"]
    assert "HEALTHCHECK" in text


def test_dockerfile_install_and_start_commands_work_in_a_fresh_venv(tmp_path: Path) -> None:
    text = dockerfile()
    src = tmp_path / "src"
    src.mkdir()
    for name in build_stage_copies(text):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installs = build_stage_installs(text, venv)
    # the image keeps the weekly digest's chart: its lock has matplotlib (the `charts` extra)
    assert any("requirements-charts.lock" in command for command in installs), installs
    for command in installs:
        subprocess.run([*command, "--quiet"], cwd=src, check=True, timeout=600)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-c", "import matplotlib.backends.backend_agg"], check=True)

    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    env = child_environment({}, clean=True)
    env.update(runtime_env(text))
    env.update(
        PATH=f"{venv / 'bin'}:{env.get('PATH', '')}",
        TOCSIN_HOST="127.0.0.1",
        TOCSIN_PORT=str(port),
        TOCSIN_DATABASE_URL=f"sqlite:///{data / 'tocsin.db'}",
        TOCSIN_MIGRATE_ON_START="false",
    )
    subprocess.run(["tocsin", "db", "upgrade"], env=env, cwd=data, check=True, timeout=120)
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(json_command(text, "CMD"), env=env, cwd=data, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        # the service runs on a port of its own (not the image's 8080): the check follows it
        check = json_command(text, "HEALTHCHECK")
        assert subprocess.run(check, env=env, timeout=30).returncode == 0
        server.terminate()
        server.wait(timeout=15)
        assert subprocess.run(check, env=env, timeout=30).returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
