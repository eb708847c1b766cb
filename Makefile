# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint bench system-deps services

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Install everything and run the service on the embedded defaults (SQLite + a local queue).
run: install
	$(BIN)/triage run

## Install everything (Python packages, Dovecot, Tesseract, Chromium) and run the whole test suite
## against PostgreSQL and Redis (started if they are not answering).
test: install system-deps services lint
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check triage tests bench worker.py

system-deps:
	bash .ci/system-deps.sh

services:
	bash .ci/services.sh

bench: install services
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
