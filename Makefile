# Telcamp set-up. `make demo` runs the product; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
PYTEST_ARGS ?=
# Two pytest-xdist workers: much of the suite waits on PostgreSQL, Chromium, SMPP and SMTP
# peers, so two processes halve the wall time on a 2-core machine (each test has its own
# database, var/ folder and ports). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: setup demo test test-fast lint typecheck bench chromium locale clean

$(STAMP): pyproject.toml
	# pip is created last: a venv interrupted half-way (Ctrl-C) lacks it and is made again
	test -x $(BIN)/pip || $(PY) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it by executable path), and a
# CJK font so Chinese pages render in screenshots.
chromium:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	fc-list 2>/dev/null | grep -qi zenhei || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing $$missing and not root: browser tests will skip (CI installs them)"; fi; fi

HOST ?= 127.0.0.1
PORT ?= 8000

# SUBSCRIBERS=20000 (or DAYS=) sizes a new demo operator; empty: the demo's own default
SUBSCRIBERS ?=
DAYS ?=
demo: setup
	$(BIN)/telcamp demo --host $(HOST) --port $(PORT) \
	  $(if $(SUBSCRIBERS),--subscribers $(SUBSCRIBERS)) $(if $(DAYS),--days $(DAYS))

# ruff and mypy (strict) are part of the tests: typed, lint-clean code is a standard here.
test: setup chromium lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check telcamp tests bench
	$(BIN)/mypy telcamp

locale: setup
	$(BIN)/pybabel extract -F babel.cfg -o var/messages.pot telcamp
	for l in ru zh en; do $(BIN)/pybabel update -i var/messages.pot -d telcamp/locale -l $$l --no-fuzzy-matching; done

clean:
	rm -rf $(VENV) node_modules var test-output
