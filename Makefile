# Two commands on a fresh machine (see README "Quick start"):
#   make demo   - set up, build registry.duckdb with the bundled case series, print overview, survival by day, disagreements
#   make test   - set up and run the test suite (what CI runs, through .ci/run)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: setup
	$(BIN)/registry init --force
	$(BIN)/registry query study_overview --format table
	$(BIN)/registry query survival_at_day --format table
	$(BIN)/registry query disagreements --format table

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) registry.duckdb .pytest_cache
