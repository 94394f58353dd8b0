# The knife retail compliance tracker. `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test install lint bench-register clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) bash scripts/run_demo.sh

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check retail tests bench

bench-register: install
	$(BIN)/python bench/bench_register.py

# Remove the demo database (the next `make run` seeds a fresh one).
clean-demo:
	rm -f instance/retail.sqlite3 instance/retail.sqlite3-wal instance/retail.sqlite3-shm instance/demo-password.txt
