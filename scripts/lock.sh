#!/usr/bin/env bash
# Re-resolve a lock file from its direct requirements in a throwaway environment.
#
#   scripts/lock.sh app    pyproject.toml      -> requirements.lock
#   scripts/lock.sh rasa   bot/requirements.in -> bot/requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case "${1:-}" in
    app)
        python="${PYTHON:-python3}"
        "$python" -m venv "$tmp/venv"
        pip_in "$tmp/venv" install --quiet --upgrade pip
        pip_in "$tmp/venv" install --quiet "torch==2.13.0" ".[dev]"
        { sed -n '1,2p' requirements.lock; "$tmp/venv/bin/pip" freeze --exclude shopkeeper; } > "$tmp/lock"
        mv "$tmp/lock" requirements.lock
        say "requirements.lock updated"
        ;;
    rasa)
        python=$(find_python 3.10) || die "python3.10 not found"
        "$python" -m venv "$tmp/venv"
        pip_in "$tmp/venv" install --quiet --upgrade "pip<25"
        pip_in "$tmp/venv" install --quiet -r bot/requirements.in
        { sed -n '1,2p' bot/requirements.lock; "$tmp/venv/bin/pip" freeze --all | grep -v '^pip=='; } > "$tmp/lock"
        mv "$tmp/lock" bot/requirements.lock
        say "bot/requirements.lock updated"
        ;;
    *) die "usage: $0 app|rasa" ;;
esac
