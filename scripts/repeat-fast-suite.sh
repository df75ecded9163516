#!/usr/bin/env bash
# The fast suite (no e2e, no production tests) run after run, to find flaky tests:
#   scripts/repeat-fast-suite.sh [RUNS] [LOG_DIR]      (defaults: 20 runs, build/repeat-fast-suite)
# Each run's output goes to LOG_DIR/runN.log and one line per run to LOG_DIR/summary;
# it stops at the first failing run, so the summary's last line says how many passed in a row.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
logs=${2:-build/repeat-fast-suite}
mkdir -p "$logs"
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    .venv/bin/python -m pytest -q -m "not e2e and not production" -p no:cacheprovider > "$logs/run$i.log" 2>&1
    rc=$?
    echo "run $i rc=$rc $(( $(date +%s) - start ))s $(tail -1 "$logs/run$i.log") $(date -u +%H:%M)" >> "$logs/summary"
    [ "$rc" -ne 0 ] && { echo "run $i failed: $logs/run$i.log"; exit 1; }
done
echo "$runs runs in a row passed ($logs/summary)"
