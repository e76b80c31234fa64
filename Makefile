# The entry point: `make demo` and `make test` set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW := ignore

.PHONY: install demo test lint fmt up clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/houqin demo

test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check houqin calendars notifications flows tasks

fmt: $(STAMP)
	$(VENV)/bin/ruff format houqin calendars notifications flows tasks
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var demo-output
