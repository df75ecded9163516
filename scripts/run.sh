#!/usr/bin/env bash
# Start Rasa, the action server and the web app on the active catalog: the demo, or the one
# `make catalog` chose (build/active-catalog.env; `make catalog-demo` removes it). Builds the
# index and trains the model first when they are out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

procfile=Procfile
if [ -f build/active-catalog.env ]; then
    set -a
    # shellcheck disable=SC1091
    . build/active-catalog.env
    set +a
    printf '\033[1m==> Catalog %s (make catalog-demo switches back to the demo)\033[0m\n' "$SHOPKEEPER_CATALOG" >&2
fi
.venv/bin/shopkeeper index build --quiet
scripts/train.sh
model=${SHOPKEEPER_RASA_MODEL:-models/shopkeeper.tar.gz}
if [ "$model" != models/shopkeeper.tar.gz ] && grep -q -- '-m models/shopkeeper.tar.gz' Procfile; then
    # The Procfile names the demo model: run the same processes with this catalog's model.
    sed "s#-m models/shopkeeper.tar.gz#-m $model#" Procfile > build/Procfile.active
    procfile=build/Procfile.active
fi
exec .venv/bin/honcho start -f "$procfile" -d .
