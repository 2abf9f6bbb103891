# The README's two commands: `make run` and `make test`. Everything installs itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Sign-in throttling counts in memory unless RATELIMIT_STORAGE_URI (Redis) is set, and memory is
# per process: gunicorn.conf.py starts one worker process with 4 threads unless the counts are shared
# in Redis, then 2 x cores + 1 of one thread each (as the README says). Empty: let it choose;
# `make run WORKERS=3 THREADS=2` to override.
WORKERS ?=
THREADS ?=
FLASK := $(BIN)/flask --app wsgi

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

# GOV.UK Frontend (and the test tools' JS) from package-lock.json; reinstalled when it changes.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
assets: node_modules/.installed

## run: install, migrate, seed the fictional demo council, then serve with gunicorn
run: install assets
	-$(FLASK) thresholds validate
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo ""
	@echo "Signpost is running at http://127.0.0.1:$(PORT)/ (Ctrl+C to stop)"
	@echo ""
	GUNICORN_WORKERS=$(WORKERS) GUNICORN_THREADS=$(THREADS) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## test: install the test tools and run every test: most of them on TEST_WORKERS processes (pytest-xdist),
## then the browser and load tests, which start servers and Chromium and time their waits, one at a time
TEST_WORKERS ?= 2
test: install-dev assets
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser and not load"
	$(BIN)/python -m pytest -m "browser or load"

## thresholds: validate the threshold files and run their YAML test cases
thresholds: install
	$(FLASK) thresholds validate
	$(FLASK) thresholds test

bench: install
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf node_modules $(VENV) .pytest_cache
