# Everything a newcomer needs: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_RESPONSES ?= 200
PO_FILES := $(wildcard survey/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install lint run test test-sqlite test-postgres bench serve reliability system-deps translations clean

install: $(STAMP) $(MO_FILES)

# The venv is (re)built when the dependencies change; constraints.txt pins every version.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

# Fonts with Chinese glyphs for the charts and reports, Chromium for the browser tests.
system-deps:
	bash scripts/system-deps.sh

# The demo prints invitation links built from BASE_URL: by default the address served here.
# The background worker (mail, reminders, closing rounds, exports) runs beside the server and
# is stopped with it: in a session of its own (setsid), so that Ctrl-C, which would stop it at
# once, reaches only the server; the trap then sends it SIGTERM: it finishes the jobs in hand.
BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/flask --app survey init-db
	BASE_URL=$(BASE_URL) $(BIN)/flask --app survey demo --office shaoxing --responses $(DEMO_RESPONSES)
	BASE_URL=$(BASE_URL) $(BIN)/flask --app survey demo-offices
	export BASE_URL=$(BASE_URL); \
	setsid $(BIN)/flask --app survey worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask --app survey run --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL too when TEST_DATABASE_URL names a server (.ci/run sets it).
# System packages first (Chromium for tests/browser); if they cannot be installed the suite still
# runs, and the browser tests fail saying what is missing. The browser tests serve the app on
# their own SQLite database, and tests/ops (backup runbook, multi-server recipe) make their own
# scratch PostgreSQL databases, so the PostgreSQL run leaves them out.
test: install lint
	bash scripts/system-deps.sh || echo "== system packages missing: the browser, chart and report tests will fail" >&2
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/python -m pytest --ignore=tests/browser --ignore=tests/ops; \
	fi

# Style (ruff: lint and formatting) and the layers of the architecture (import-linter's
# contracts): both configured in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# The benchmarks at 10,000, 100,000 and 1,000,000 responses on SQLite and on PostgreSQL (a scratch
# database on 127.0.0.1:5432, user postgres; without a server, SQLite only): about an hour on
# 2 cores. BENCH_ARGS="--quick" (10,000 responses, a few minutes), "--scales 10000,100000",
# "--databases sqlite", "--only dashboard": see bench/run.py.
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Production serving: gunicorn with 2 workers per core on DATABASE_URL (default: the SQLite file
# in instance/) and one background worker beside it (gunicorn.conf.py has the timeouts); the
# migrations run once before they start. Stopping gunicorn stops the worker.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
WORKERS ?= $(shell $(BIN)/python -c 'import os; print(2 * (os.cpu_count() or 1))' 2>/dev/null || echo 2)
serve: install
	$(BIN)/flask --app survey init-db
	setsid $(BIN)/flask --app survey worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(SERVE_HOST):$(SERVE_PORT) 'survey:create_app()'

# Full-size load test: 2,000 invitations + 200 simultaneous duplicates, SQLite and PostgreSQL.
reliability: install
	$(BIN)/python bench/reliability.py

# Known vulnerabilities in the pinned dependencies (PyPI advisory database: needs the network,
# so it is not part of `make test` or .ci/run).
audit: install
	$(BIN)/python -m pip install -q 'pip-audit==2.10.1'
	$(BIN)/pip-audit --strict -r constraints.txt

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o survey/translations/messages.pot .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations

clean:
	rm -rf $(VENV) .pytest_cache
