# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test setup setup-dev db lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

db: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

run: db
	@echo ""
	@echo "Channel back-office: http://$(HOST):$(PORT)/"
	@echo "Demo logins (password demo1234): admin@example.com, manager@example.com,"
	@echo "  rep@example.com, finance@example.com, partner@example.com (gold), partner2@example.com (silver)"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-dev
	$(BIN)/ruff format .

bench: setup-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
