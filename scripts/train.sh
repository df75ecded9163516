#!/usr/bin/env bash
# Train the Rasa model only when the training data, domain or config changed.
# The fingerprint of those files is kept beside the model in models/.fingerprint.
set -euo pipefail
cd "$(dirname "$0")/.."

inputs=(config.yml bot/domain data/nlu data/stories data/rules)
fingerprint=$(find "${inputs[@]}" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' \) -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
model=models/shopkeeper.tar.gz
if [ -f "$model" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ]; then
    exit 0
fi
printf '\033[1m==> Training the Rasa model (about four minutes on two cores)\033[0m\n' >&2
mkdir -p models
.venv-rasa/bin/rasa train --quiet --config config.yml --domain bot/domain \
    --data data/nlu data/stories data/rules --out models --fixed-model-name shopkeeper >&2
echo "$fingerprint" > models/.fingerprint
