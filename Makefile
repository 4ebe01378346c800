# Two commands (see README):
#   make reports   set up .venv and write the reports of the bundled 2011 sample round
#   make test      set up .venv with the dev extras (and a browser for the HTML tests) and run the suite
# A second run reinstalls nothing unless pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
YEAR   ?= 2011
OUT    ?= reports/$(YEAR)

.PHONY: reports score test lint browser sample clean

reports: $(VENV)/.installed
	$(BIN)/pingyi report data/sample/$(YEAR) --out $(OUT)

score: $(VENV)/.installed
	$(BIN)/pingyi score data/sample/$(YEAR)

test: $(VENV)/.installed-dev browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

browser:
	@scripts/ensure-browser

sample: $(VENV)/.installed
	$(BIN)/pingyi sample --year 2011 --out data/sample/2011
	$(BIN)/pingyi sample --year 2012 --out data/sample/2012

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pingyi needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) reports .pytest_cache
