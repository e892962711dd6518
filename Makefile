# The two commands of the README: `make run` and `make test`.
#
# Both install from lock files (requirements.lock: what the service needs; requirements-dev.lock:
# that plus the test tools), with uv when it can be had (it is installed into .tools/, apart
# from the service's .venv) and with plain pip otherwise. `make lock` updates the lock files
# after pyproject.toml's dependencies change.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test setup lint lock audit clean

$(UV):
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv \
	  || echo "uv could not be installed: installing with pip (slower)"
	@touch $(UV)

# $(1): the lock file. Additive (install, not sync): `make run` after `make test` keeps the
# test tools. The project itself is installed editable, without resolving anything again.
define install
	@start=$$(date +%s); \
	if [ -s $(UV) ]; then \
	  [ -x $(VENV)/bin/python ] || $(UV) venv --quiet --python $(PYTHON) $(VENV); \
	  $(UV) pip install --quiet --python $(VENV)/bin/python --require-hashes -r $(1) \
	  && $(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e . ; \
	else \
	  [ -x $(VENV)/bin/python ] || { $(PYTHON) -m venv $(VENV) && \
	    $(VENV)/bin/pip install --quiet --upgrade pip setuptools; }; \
	  $(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r $(1) \
	  && $(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e . ; \
	fi && echo "installed $(1) into $(VENV) in $$(( $$(date +%s) - start )) s"
endef

$(RUNTIME): pyproject.toml requirements.lock | $(UV)
	$(call install,requirements.lock)
	@touch $(RUNTIME)

$(DEV): pyproject.toml requirements-dev.lock | $(UV)
	$(call install,requirements-dev.lock)
	@touch $(DEV) $(RUNTIME)

setup: $(DEV)

run: $(RUNTIME)
	$(VENV)/bin/tocsin serve

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site

# Known vulnerabilities in every installed distribution, from PyPI's advisory data; fails when
# it finds one or when nothing could be checked (what could not be is listed)
# .ci/dependency_audit.py says why plain pip-audit is not enough. Needs PyPI.
audit: $(DEV)
	$(VENV)/bin/python .ci/dependency_audit.py

# Four workers: most integration tests wait on Slack's pacing (1 message/s per channel in the
# fake Slack), not on the CPU, so they overlap well even on two cores.
TEST_WORKERS ?= 4

test: lint audit
	$(VENV)/bin/pytest -q -ra -n $(TEST_WORKERS) --durations=15

# Resolve pyproject.toml's dependencies again into the lock files (for every platform): the
# service, the service with the test tools, the service with its charts (the Docker image).
lock: | $(UV)
	$(UV) pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	  pyproject.toml -o requirements.lock
	$(UV) pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	  --extra dev pyproject.toml -o requirements-dev.lock
	$(UV) pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	  --extra charts pyproject.toml -o requirements-charts.lock

clean:
	rm -rf $(VENV) $(TOOLS) data .pytest_cache .mypy_cache .ruff_cache
