#!/usr/bin/env bash
# Create or refresh the project's two Python environments, idempotently.
#
#   .venv       Python >= 3.11: our package (action server, web app, retrieval, tools)
#   .venv-rasa  Python 3.10:    the Rasa 3.6 server, installed from bot/requirements.lock; it imports
#               bot.rasa_components and bot.rasa_speedups from this repository (a .pth file)
#   build/minilm-onnx  all-MiniLM-L6-v2 exported to ONNX from the packaged weights, which the
#               NLU featurizer and the action server's query encoder both run (re-exported
#               only when the weights change: retrieval/onnx_export.py)
#
# An environment is re-installed only when the files it is built from change:
# a hash of them is kept in <venv>/.requirements.sha256.
#
#   node_modules  the widget's browser-side packages (socket.io client), from package-lock.json
#   chromium    Debian's Chromium for the browser tests (`browser`, used by `make test` only)
#
# Usage: scripts/setup.sh [app|onnx|rasa|web|browser|all]   (default: all = app, onnx, rasa, web)
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-all}"

. scripts/lib.sh

setup_app() {
    local venv=.venv want have python
    want=$(hash_of requirements.lock pyproject.toml)
    have=$(cat "$venv/.requirements.sha256" 2>/dev/null || true)
    if [ "$want" = "$have" ] && [ -x "$venv/bin/python" ]; then
        return 0
    fi
    python="${PYTHON:-python3}"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || python=$(find_python 3.11) \
        || die "Python 3.11 or newer is needed for the action server and tools (set PYTHON=/path/to/python3.11)."
    say "Installing the application environment in $venv ($("$python" --version))"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    pip_in "$venv" install --quiet --upgrade pip "setuptools>=77" wheel
    # torch is pinned to the CPU build (2.13.0+cpu); any other release pulls CUDA wheels of several GB.
    pip_in "$venv" install --quiet -r requirements.lock
    pip_in "$venv" install --quiet --no-deps --no-build-isolation -e .
    echo "$want" > "$venv/.requirements.sha256"
}

setup_onnx() {
    .venv/bin/python -m retrieval.onnx_export --check 2>/dev/null && return 0
    say "Exporting all-MiniLM-L6-v2 to ONNX in build/minilm-onnx (about 15 seconds)"
    .venv/bin/python -m retrieval.onnx_export || die "the ONNX export failed (see above)"
}

setup_rasa() {
    local venv=.venv-rasa want have python
    want=$(hash_of bot/requirements.lock bot/requirements-nlu-model.txt)
    have=$(cat "$venv/.requirements.sha256" 2>/dev/null || true)
    if [ "$want" = "$have" ] && [ -x "$venv/bin/rasa" ] \
        && compgen -G "$venv/lib/python*/site-packages/shopkeeper.pth" >/dev/null; then
        return 0
    fi
    python="${RASA_PYTHON:-}"
    [ -n "$python" ] || python=$(find_python 3.10) || die "python3.10 was not found.
Rasa Open Source 3.6 runs on Python 3.8-3.10 only, so the Rasa server needs its own
Python 3.10 environment. Install Python 3.10 (e.g. 'pyenv install 3.10', or your
distribution's python3.10 and python3.10-venv packages) or point RASA_PYTHON at it."
    say "Installing the Rasa server environment in $venv ($("$python" --version)); this takes a few minutes"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    pip_in "$venv" install --quiet --upgrade "pip<25"
    # Every transitive version is pinned, setuptools and wheel included:
    # an unpinned python-socketio breaks the widget.
    pip_in "$venv" install --quiet --no-deps -r bot/requirements.lock
    "$venv/bin/python" -m pip check >/dev/null || die "the Rasa environment is inconsistent: run $venv/bin/pip check"
    # Our code inside Rasa, imported from this repository rather than copied: a .pth file puts
    # the repository on sys.path (so config.yml's bot.rasa_components.* are found) and loads
    # bot.rasa_speedups, a faster drop-in for the schema check of action answers, in every
    # process. The path goes from site-packages up to the folder holding the environment, so
    # the environment serves the repository it lives in, wherever that is. The NLU's copy of
    # the model is unpacked into site-packages.
    local site
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # Earlier setups copied the two modules in under other names.
    rm -f "$site/shopkeeper_rasa_speedups.py" "$site/shopkeeper_rasa_speedups.pth" "$site/shopkeeper_rasa_components.py"
    {
        echo "# Written by scripts/setup.sh: the repository holding this environment, and bot/rasa_speedups.py."
        "$venv/bin/python" -c 'import os, sys; print(os.path.relpath(os.path.dirname(sys.prefix), sys.argv[1]))' "$site"
        echo "import bot.rasa_speedups"
    } > "$site/shopkeeper.pth"
    rm -rf "$site/shopkeeper_minilm"
    pip_in "$venv" install --quiet --no-deps --target "$site/shopkeeper_minilm" -r bot/requirements-nlu-model.txt
    echo "$want" > "$venv/.requirements.sha256"
}

setup_web() {
    local want have
    want=$(hash_of package.json package-lock.json)
    have=$(cat node_modules/.requirements.sha256 2>/dev/null || true)
    if [ "$want" = "$have" ] && [ -f node_modules/socket.io-client/dist/socket.io.min.js ]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm was not found: the chat widget's socket.io client is installed with npm (Node.js 18 or newer)."
    say "Installing the widget's browser-side packages in node_modules"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$want" > node_modules/.requirements.sha256
}

setup_browser() {
    local chromium="${CHROMIUM:-/usr/bin/chromium}" packages
    # The emoji font only makes the 👍 / 👎 buttons legible in the screenshots.
    packages=$(dpkg-query -W -f='${Status}' fonts-noto-color-emoji 2>/dev/null | grep -q "ok installed" || echo fonts-noto-color-emoji)
    [ -x "$chromium" ] || packages="chromium $packages"
    [ -n "${packages// /}" ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "Installing Debian packages for the browser tests: $packages"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages >/dev/null; } \
            || die "apt-get could not install $packages"
    elif [ -x "$chromium" ]; then
        return 0
    else
        die "Chromium is needed for the browser tests: install Debian's 'chromium' package (sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium."
    fi
}

case "$target" in
    app) setup_app ;;
    onnx) setup_app; setup_onnx ;;
    rasa) setup_rasa ;;
    web) setup_web ;;
    browser) setup_browser ;;
    all) setup_app; setup_onnx; setup_rasa; setup_web ;;
    *) die "usage: $0 [app|onnx|rasa|web|browser|all]" ;;
esac
