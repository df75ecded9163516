# Shopkeeper — one-command run and test.
#
#   make run      set up what is missing, build the index and model if needed, start everything
#   make test     every suite that must pass (the command CI runs)
#   make help     all targets
#
# Ports and databases come from the environment; see README.md ("Configuration").

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
RASA_VENV   := .venv-rasa
PY          := $(VENV)/bin/python
RASA        := $(RASA_VENV)/bin/rasa

export RASA_PORT        ?= 5005
export ACTION_PORT      ?= 5055
export WEB_PORT         ?= 8000
export HOST             ?= 127.0.0.1
export ACTION_SERVER_URL ?= http://$(HOST):$(ACTION_PORT)/webhook
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TRACKER_DB ?= build/rasa-tracker.db
export CORS_ORIGINS    ?= http://$(HOST):$(WEB_PORT)

.PHONY: help setup index model run test lint bench bench-nlu bench-turns bench-sim catalog catalog-demo lock lock-rasa clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create/refresh .venv (3.11) and .venv-rasa (3.10) when their requirement files changed
	@scripts/setup.sh all

index: setup ## build the catalog index when the catalog changed
	@$(VENV)/bin/shopkeeper index build --quiet

model: setup ## train the Rasa model when training data, domain or config changed
	@scripts/train.sh

run: setup ## start Rasa, the action server and the web app on the active catalog (Ctrl-C stops all)
	@scripts/run.sh

catalog: setup ## use another catalog: make catalog CATALOG=file.csv MAPPING=mapping.toml (then make run)
	@test -n "$(CATALOG)" || { echo "usage: make catalog CATALOG=path/to/catalog.csv [MAPPING=mapping.toml] [NAME=name]"; exit 2; }
	@$(VENV)/bin/shopkeeper catalog use "$(CATALOG)" $(if $(MAPPING),--mapping "$(MAPPING)") $(if $(NAME),--name "$(NAME)")

catalog-demo: setup ## switch back to the demo catalog (then make run)
	@$(VENV)/bin/shopkeeper catalog use --demo

test: index model ## run every suite that must pass (installs Debian's Chromium for the browser tests)
	@scripts/setup.sh browser
	@scripts/test.sh

lint: setup ## ruff and mypy
	@$(VENV)/bin/ruff check retrieval actions web store tests benchmarks scripts
	@$(VENV)/bin/mypy

bench: index ## retrieval benchmark (about 20 minutes; prints figures)
	@$(PY) benchmarks/retrieval.py

bench-nlu: setup ## NLU 5-fold cross-validation (about 20 minutes; prints figures)
	@$(PY) benchmarks/nlu.py

bench-turns: index model ## end-to-end recommendation turn latency over REST (about 5 minutes)
	@$(PY) benchmarks/turns.py

bench-sim: index model ## simulated customers on the demo and Flipkart catalogs against two baselines (about 30 minutes)
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/flipkart-sample.csv \
		--mapping data/catalog/mappings/flipkart.toml --no-activate --quiet
	@$(PY) benchmarks/simulator.py

lock: ## re-resolve requirements.lock from pyproject.toml (needs network)
	@scripts/lock.sh app

lock-rasa: ## re-resolve bot/requirements.lock from bot/requirements.in (needs network)
	@scripts/lock.sh rasa

clean: ## remove built index, model and caches (keeps the environments)
	rm -rf build models .pytest_cache
