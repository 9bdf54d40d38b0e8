#!/usr/bin/env bash
# npm run test:all: typecheck, start the real services the integration tests need (on loopback),
# run every test, stop the services, and close with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

npm run --silent typecheck || { echo "0 passed, 1 failed"; exit 1; }

npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
status=$?

node tests/summary.mjs "$results/vitest.json" || status=1
exit $status
