# Two commands (see README):
#   make reports   set up .venv and write the reports of the bundled sample rounds
#                  (2011, and 2012 with its look-back against 2011)
#   make test      set up .venv with the dev extras (a browser for the HTML tests, LibreOffice for the
#                  notice and workbook as printed) and run the suite
# A second run reinstalls nothing unless pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
YEAR   ?= 2011
OUT    ?= reports/$(YEAR)
# each sample round's round.toml names its report date (the end of its rectification step)
REPORT_ARGS = $(if $(filter 2012,$(1)),--previous data/sample/2011,)

.PHONY: reports report score test lint browser office sample clean

reports: $(VENV)/.installed
	$(BIN)/pingyi report data/sample/2011 --out reports/2011 $(call REPORT_ARGS,2011)
	$(BIN)/pingyi report data/sample/2012 --out reports/2012 $(call REPORT_ARGS,2012)

report: $(VENV)/.installed
	$(BIN)/pingyi report data/sample/$(YEAR) --out $(OUT) $(call REPORT_ARGS,$(YEAR))

score: $(VENV)/.installed
	$(BIN)/pingyi score data/sample/$(YEAR)

test: $(VENV)/.installed-dev browser office
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

browser:
	@scripts/ensure-browser

office: browser
	@scripts/ensure-office

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
