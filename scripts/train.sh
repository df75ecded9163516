#!/usr/bin/env bash
# Train the Rasa model only when the training data, domain or config changed.
# The fingerprint of those files is kept beside the model (models/.fingerprint).
#
# For another catalog (`shopkeeper catalog use`, `make catalog`):
#   SHOPKEEPER_NLU_LOOKUPS  that catalog's lookup tables and synonyms, used instead of
#                           data/nlu/catalog_lookups.yml (the rest of data/nlu is shared)
#   SHOPKEEPER_RASA_MODEL   where its model goes (default models/shopkeeper.tar.gz)
#   SHOPKEEPER_TRAIN_DRY_RUN=1  print the training command instead of running it
set -euo pipefail
cd "$(dirname "$0")/.."

model=${SHOPKEEPER_RASA_MODEL:-models/shopkeeper.tar.gz}
lookups=${SHOPKEEPER_NLU_LOOKUPS:-}
if [ -n "$lookups" ]; then
    [ -f "$lookups" ] || { echo "SHOPKEEPER_NLU_LOOKUPS: no such file: $lookups" >&2; exit 2; }
    nlu=()
    for file in data/nlu/*.yml; do
        [ "$(basename "$file")" = catalog_lookups.yml ] || nlu+=("$file")
    done
    nlu+=("$lookups")
else
    nlu=(data/nlu)
fi
out=$(dirname "$model")
name=$(basename "$model" .tar.gz)

inputs=(config.yml bot/domain "${nlu[@]}" data/stories data/rules)
fingerprint=$(find "${inputs[@]}" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' \) -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
command=(.venv-rasa/bin/rasa train --quiet --config config.yml --domain bot/domain
    --data "${nlu[@]}" data/stories data/rules --out "$out" --fixed-model-name "$name")
if [ "${SHOPKEEPER_TRAIN_DRY_RUN:-}" = 1 ]; then
    echo "${command[*]}"
    exit 0
fi
if [ -f "$model" ] && [ "$(cat "$out/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
    exit 0
fi
printf '\033[1m==> Training the Rasa model %s (four to six minutes on two cores)\033[0m\n' "$model" >&2
mkdir -p "$out"
"${command[@]}" >&2
echo "$fingerprint" > "$out/.fingerprint"
