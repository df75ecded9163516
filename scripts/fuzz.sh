#!/usr/bin/env bash
# The property-based tests of the parsers of untrusted input, many cases each, and how many ran.
#
# Runs tests/test_properties_*.py under hypothesis's `thorough` profile (tests/properties_support.py:
# ten times the cases of the default profile that `make test` uses), with hypothesis's statistics,
# then adds up the cases that ran. The whole output is kept in build/fuzz.log.
#
# Usage: scripts/fuzz.sh [pytest options]     e.g. scripts/fuzz.sh -k catalog
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

mkdir -p build
log=build/fuzz.log
say "Property tests under the thorough profile (a few minutes); output in $log"
status=0
HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_properties_*.py -p no:cacheprovider -q \
    --hypothesis-show-statistics "$@" > "$log" 2>&1 || status=$?
grep -E '(passed|failed|error)' "$log" | tail -1
# hypothesis reports each phase of each property: "during generate phase" (new cases), "during reuse
# phase" (the examples kept in build/hypothesis), "during explicit phase" (@example), "during shrink
# phase" (smaller variants of a failing case: not counted), each with
# "- N passing, N failing, and N invalid test cases" (invalid: rejected by the strategy, not run).
awk '/^tests\/test_properties_.*::/ { properties++; name = $0 }
     /during (generate|target) phase/ { phase = "generated" }
     /during reuse phase/ { phase = "replayed" }
     /during explicit phase/ { phase = "explicit" }
     /during (shrink|explain) phase/ { phase = "" }
     /^ *- [0-9]+ passing, [0-9]+ failing/ {
         if (phase != "") ran[phase] += $2 + $4
         if ($4 > 0 && !(name in failed)) { failed[name] = 1; failing++ }
     }
     END { printf "fuzz: %d cases over %d properties (%d generated, %d replayed from build/hypothesis); %d failing\n",
                  ran["generated"] + ran["replayed"] + ran["explicit"], properties, ran["generated"], ran["replayed"],
                  failing }' "$log"
if [ "$status" -ne 0 ]; then
    say "Failures (hypothesis prints the smallest failing input of each):"
    grep -E '^(FAILED|E +(Failing|Falsifying))' "$log" >&2 || true
fi
exit "$status"
