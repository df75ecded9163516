#!/usr/bin/env bash
# Every suite that must pass; `make test` runs it after building the index and the model.
# Exits non-zero on the first failing suite. pytest runs last so its summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-output

step() {
    local title="$1"; shift
    printf '\n\033[1m==> %s\033[0m\n' "$title"
    "$@"
}

step "Rasa training data validation" \
    .venv-rasa/bin/rasa data validate --fail-on-warnings --config config.yml --domain bot/domain \
        --data data/nlu data/stories data/rules

step "Dialogue test stories (rasa test)" \
    .venv-rasa/bin/rasa test core --model models/shopkeeper.tar.gz --stories tests/stories \
        --fail-on-prediction-errors --out test-output/rasa-core

step "pytest" .venv/bin/python -m pytest
