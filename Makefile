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
# Rasa's HTTP API (trackers, model, domain) needs this token; the chat channels do not.
# Default: a random token kept in build/rasa-auth.token (mode 0600).
export RASA_AUTH_TOKEN ?= $(shell mkdir -p build && { [ -s build/rasa-auth.token ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > build/rasa-auth.token); } && cat build/rasa-auth.token)
export RASA_ENDPOINTS  ?= bot/endpoints.yml

# `make run-production` (PRODUCTION=1): PostgreSQL, Redis, RabbitMQ and bot/gateway.py (README.md, "Production").
# Every value may be overridden from the environment; secrets come only from there.
ifeq ($(PRODUCTION),1)
export RASA_ENDPOINTS     := bot/endpoints.production.yml
export RASA_INTERNAL_PORT ?= 5105
export ACTION_SERVER_URL  := http://$(HOST):$(RASA_PORT)/webhook
export RASA_DB_HOST       ?= 127.0.0.1
export RASA_DB_PORT       ?= 5432
export RASA_DB_NAME       ?= rasa
export RASA_DB_USER       ?= postgres
export RASA_DB_PASSWORD   ?=
export REDIS_HOST         ?= 127.0.0.1
export REDIS_PORT         ?= 6379
export REDIS_DB           ?= 0
export REDIS_PASSWORD     ?=
export RASA_LOCK_PREFIX   ?= shopkeeper
export RABBITMQ_HOST      ?= 127.0.0.1
export RABBITMQ_PORT      ?= 5672
export RABBITMQ_USER      ?= guest
export RABBITMQ_PASSWORD  ?= guest
export RABBITMQ_QUEUE     ?= rasa_events
export SHOPKEEPER_DB_URL  ?= postgresql+psycopg://$(RASA_DB_USER)@$(RASA_DB_HOST):$(RASA_DB_PORT)/shopkeeper
export SHOPKEEPER_TRACKER_DB_URL ?= postgresql+psycopg://$(RASA_DB_USER)@$(RASA_DB_HOST):$(RASA_DB_PORT)/$(RASA_DB_NAME)
endif

.PHONY: help setup index model run run-production migrate purge test lint fuzz audit bench bench-nlu bench-turns bench-load bench-soak bench-sim bench-conversations bench-catalogs bench-sealed bench-questions bench-collaborative bench-scale foreign-catalogs catalog catalog-demo lock lock-rasa clean

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

run-production: index model ## the production path: PostgreSQL, Redis, RabbitMQ, bot/gateway.py (README, "Production")
	@$(MAKE) --no-print-directory PRODUCTION=1 migrate
	@$(MAKE) --no-print-directory PRODUCTION=1 serve-production

serve-production:
	@$(VENV)/bin/honcho start -f Procfile.production -d .

migrate: setup ## bring our database (SHOPKEEPER_DB_URL) to the newest schema revision (Alembic)
	@$(PY) -m store.migrate upgrade

purge: setup ## delete what is older than SHOPKEEPER_RETENTION_DAYS (90) everywhere; DRY_RUN=1 only counts (run daily)
	@$(VENV)/bin/shopkeeper privacy purge $(if $(DRY_RUN),--dry-run)

catalog: setup ## use another catalog: make catalog CATALOG=file.csv MAPPING=mapping.toml (then make run)
	@test -n "$(CATALOG)" || { echo "usage: make catalog CATALOG=path/to/catalog.csv [MAPPING=mapping.toml] [NAME=name]"; exit 2; }
	@$(VENV)/bin/shopkeeper catalog use "$(CATALOG)" $(if $(MAPPING),--mapping "$(MAPPING)") $(if $(NAME),--name "$(NAME)")

catalog-demo: setup ## switch back to the demo catalog (then make run)
	@$(VENV)/bin/shopkeeper catalog use --demo

test: index model ## run every suite that must pass (installs Debian's Chromium for the browser tests)
	@scripts/setup.sh browser
	@scripts/test.sh

fuzz: setup ## the parsers' property tests, ten times the cases of make test; prints how many ran (a few minutes)
	@scripts/fuzz.sh

audit: setup ## known vulnerabilities in requirements.lock, bot/requirements.lock and package-lock.json (needs network)
	@$(PY) scripts/audit.py

lint: setup ## ruff and mypy
	@$(VENV)/bin/ruff check retrieval actions web store shopkeeper_cli tests benchmarks scripts evaluation bot/gateway.py
	@$(VENV)/bin/mypy

bench: index ## retrieval benchmark (about 20 minutes; prints figures)
	@$(PY) -m benchmarks.retrieval_bench

bench-nlu: setup ## NLU 5-fold cross-validation (about half an hour; prints figures)
	@$(PY) -m benchmarks.nlu

bench-turns: index model ## turn latency over REST and beside bare Rasa 3.6 (about 12 minutes)
	@$(PY) -m benchmarks.turns

bench-load: index model ## throughput and latency at 10/50/100 customers, embedded vs production (about 20 minutes)
	@$(PY) -m benchmarks.load

bench-soak: index model ## 20 customers for 60 minutes on the production path: memory, p50/p95, errors per 5 minutes (MINUTES=10 for a quick look)
	@$(PY) -m benchmarks.soak $(if $(MINUTES),--minutes $(MINUTES)) $(if $(CUSTOMERS),--customers $(CUSTOMERS))

bench-sim: index model ## simulated customers on the demo and Flipkart catalogs against two baselines (about 30 minutes)
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/flipkart-sample.csv \
		--mapping data/catalog/mappings/flipkart.toml --no-activate --quiet
	@$(PY) -m benchmarks.simulator

bench-conversations: index model ## the conversation suites over REST on the demo and the three foreign catalogs (about 80 minutes)
	@if [ -d ../shared/catalogs ]; then $(MAKE) --no-print-directory foreign-catalogs; \
	else echo "../shared/catalogs is absent: the demo catalog only"; fi
	@$(PY) -m benchmarks.conversations

bench-catalogs: index model foreign-catalogs ## query benchmark (dev suites) and exact-target simulator on the foreign catalogs (about an hour)
	@$(PY) -m benchmarks.queries
	@$(PY) -m benchmarks.simulator --catalogs flipkart-sample,dummyjson-products,amazon-2020-sample --protocol exact

bench-sealed: index model foreign-catalogs ## the sealed suites, to report only: queries beside the dev ones, then conversations (benchmarks/sealed)
	@$(PY) -m benchmarks.queries --sets dev,sealed --in-process --misses 0
	@$(PY) -m benchmarks.conversations --suites benchmarks/sealed/conversations --failures 0 \
		--catalogs flipkart-sample,dummyjson-products,amazon-2020-sample,myntra-products

bench-questions: index model ## questions about a shown item and about the catalog, dev and sealed side by side, per catalog and kind (a few minutes)
	@if [ -d ../shared/catalogs ]; then $(MAKE) --no-print-directory foreign-catalogs; \
	else echo "../shared/catalogs is absent: the demo catalog only"; fi
	@$(PY) -m benchmarks.questions --sets dev,sealed --failures 0
	@$(PY) -m benchmarks.catalog_questions --sets dev,sealed --failures 0

bench-collaborative: setup ## next-purchase HitRate@10 / NDCG@10 of popularity, co-occurrence, EASE, content, a blend, ALS (when implicit is installed) and the own ranker on ../shared's orders (about 15 minutes)
	@$(PY) -m benchmarks.collaborative

bench-scale: setup ## search + rerank latency and build cost at 10,000 items from the demo and foreign catalogs (about 10 minutes)
	@$(PY) -m benchmarks.scale

foreign-catalogs: setup ## import, index and train the four catalogs in ../shared/catalogs (skipped when up to date)
	@test -d ../shared/catalogs || { echo "../shared/catalogs is absent (clone with ../shared beside the repo)"; exit 2; }
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/flipkart-sample.csv \
		--mapping data/catalog/mappings/flipkart.toml --no-activate --quiet
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/dummyjson-products.json \
		--mapping data/catalog/mappings/dummyjson.toml --no-activate --quiet
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/amazon-2020-sample.csv \
		--mapping data/catalog/mappings/amazon.toml --no-activate --quiet
	@$(VENV)/bin/shopkeeper catalog use ../shared/catalogs/myntra-products.csv \
		--mapping data/catalog/mappings/myntra.toml --no-activate --quiet

lock: ## re-resolve requirements.lock from pyproject.toml (needs network)
	@scripts/lock.sh app

lock-rasa: ## re-resolve bot/requirements.lock from bot/requirements.in (needs network)
	@scripts/lock.sh rasa

clean: ## remove built index, model and caches (keeps the environments)
	rm -rf build models .pytest_cache
