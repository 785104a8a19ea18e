# Two commands on a fresh machine (see README "Quick start"):
#   make demo   - set up, build registry.duckdb with the bundled case series, print overview, survival by day, disagreements
#   make test   - set up and run the test suite (what CI runs, through .ci/run)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup test-setup clean

# demo needs only the package; the tests also need the other engines and a browser.
setup: $(VENV)/.installed

test-setup: setup $(VENV)/.engines $(VENV)/.browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The engines tests (tests/test_engines.py) need a PostgreSQL server (Debian's package: only its
# binaries are used, a throwaway cluster per test session) and Java 17 for Spark; psycopg and
# pyspark come with the `test` extra. The tests fail, rather than skip, without them.
$(VENV)/.engines: $(VENV)/.installed
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="postgresql"; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing $$missing: the engines tests need PostgreSQL's initdb and Java 17" >&2; exit 1; fi; \
	fi
	touch $@

# The report tests (tests/test_report.py) open the HTML report in headless Chromium (Debian's
# package); they fail, rather than skip, without it under CI=true.
$(VENV)/.browser: $(VENV)/.installed
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	  else echo "chromium is missing: the report tests need headless Chromium" >&2; exit 1; fi; \
	fi
	touch $@

demo: setup
	$(BIN)/registry init --force
	$(BIN)/registry query study_overview --format table
	$(BIN)/registry query survival_at_day --format table
	$(BIN)/registry query disagreements --format table

test: test-setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) registry.duckdb .pytest_cache
