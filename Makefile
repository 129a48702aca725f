# Two commands: `make run` starts everything with demo data; `make test` sets up and passes the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test processes (pytest-xdist); `make test PYTEST_WORKERS=0` runs the suite in one process.
PYTEST_WORKERS ?= 2
PORT ?= 8000

.PHONY: run test lint typecheck pytest bench clean-var help

help:
	@echo "make run    install into .venv and start the whole system on http://127.0.0.1:$(PORT)/"
	@echo "make test   install dev tools into .venv, then ruff, mypy and pytest"
	@echo "make bench  every benchmark at the scale of the performance targets (about an hour, 20 GB of disk); figures in var/bench/"

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The browser's upload widget and earnings chart, bundled from npm packages pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 18 or newer) is needed to build the upload widget"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/build/upload.js: node_modules/.installed frontend/upload.js
	npm run --silent build

static/build/earnings.js: node_modules/.installed frontend/earnings.js
	npm run --silent build

# The pages' translations, compiled from locale/*/LC_MESSAGES/django.po (config/translations.py).
TRANSLATIONS := $(wildcard locale/*/LC_MESSAGES/django.po)
locale/.compiled: $(VENV)/.installed $(TRANSLATIONS)
	$(PY) -m config.translations
	@touch $@

run: $(VENV)/.installed static/build/upload.js static/build/earnings.js locale/.compiled
	exec $(PY) -m devstack run --port $(PORT)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy .

pytest: $(VENV)/.installed-dev static/build/upload.js static/build/earnings.js locale/.compiled
	$(PY) -m pytest -n $(PYTEST_WORKERS) --durations=40 $(PYTEST_ARGS)

test: lint typecheck pytest

# Each bench starts its own embedded PostgreSQL and SeaweedFS and prints its figures with their
# baselines, ratios and targets; one at a time, so they don't measure each other.
BENCHES := download:--size-mib 32 --rounds 5 \
	upload:--size-mib 1024 --rounds 3 \
	validate:--gib 1 --rounds 2 --huge-gib 5 \
	validate:--growth \
	viewer:--rows 10000000 --queries 20 \
	rerelease:--gib 1 \
	catalog:--growth 10000,100000,1000000 --repeat 12 \
	load:
bench: $(VENV)/.installed-dev static/build/upload.js static/build/earnings.js locale/.compiled
	@mkdir -p var/bench
	@i=0; echo '$(BENCHES)' | sed 's/ \([a-z]*\):/\n\1:/g' | while IFS=: read -r name args; do \
	  i=$$((i+1)); echo "== bench/$$name.py $$args"; \
	  $(PY) bench/$$name.py $$args 2>&1 | grep -v ' INFO \| WARNING ' | tee var/bench/$$i-$$name.txt; \
	done

clean-var:
	rm -rf var
