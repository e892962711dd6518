# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test setup lint audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip setuptools  # venv's own setuptools is old
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tocsin serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

# Known vulnerabilities in every installed distribution, from PyPI's advisory data; fails when
# it finds one, when nothing could be checked, or when a direct dependency could not be
# (.ci/dependency_audit.py says why plain pip-audit is not enough). Needs PyPI.
audit: $(STAMP)
	$(VENV)/bin/python .ci/dependency_audit.py

# Four workers: most integration tests wait on Slack's pacing (1 message/s per channel in the
# fake Slack), not on the CPU, so they overlap well even on two cores.
TEST_WORKERS ?= 4

test: lint audit
	$(VENV)/bin/pytest -q -ra -n $(TEST_WORKERS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
