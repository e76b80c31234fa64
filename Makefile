# The entry point: `make demo` and `make test` set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Prefect's settings (no telemetry, its home, a startup timeout for slow machines) are set by
# houqin's own entry points (houqin/prefect_env.py), so they hold outside make too.

.PHONY: install system-deps demo test lint fmt up bench bench-quick clean

install: $(STAMP)

# Debian packages the tests and reports need: Chromium for browser tests, CJK fonts for PDFs,
# poppler for reading PDFs back, khal as a real calendar client. Installed only when missing.
SYSTEM_DEPS_STAMP := $(VENV)/.system-deps-stamp
system-deps: $(SYSTEM_DEPS_STAMP)

$(SYSTEM_DEPS_STAMP):
	@if command -v chromium >/dev/null && command -v pdftotext >/dev/null && command -v khal >/dev/null \
	    && fc-list | grep -q "Noto Sans CJK"; then echo "system packages present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-noto-cjk poppler-utils khal >/dev/null; fi
	mkdir -p $(VENV) && touch $@

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	PREFECT_HOME=$(CURDIR)/var/prefect $(VENV)/bin/houqin demo

test: $(STAMP) system-deps lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict houqin calendars notifications
	$(VENV)/bin/ruff format --check houqin calendars notifications flows tasks

fmt: $(STAMP)
	$(VENV)/bin/ruff format houqin calendars notifications flows tasks
	$(VENV)/bin/ruff check --fix .

up: $(STAMP)
	bash scripts/up.sh

# The benchmark on the local PostgreSQL: writes bench/RESULTS.md (docs/benchmark.md explains).
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick --out bench/RESULTS-quick.md

clean:
	rm -rf $(VENV) var demo-output
