# The README's two commands: `make run` and `make test`. Everything installs itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev assets thresholds bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: validate the thresholds and show the version in force
run: install
	$(BIN)/flask --app wsgi thresholds validate
	$(BIN)/flask --app wsgi thresholds list
	$(BIN)/flask --app wsgi thresholds show current

## test: install the test tools and run every test
test: install-dev
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/engine.py
