#!/usr/bin/env bash
# npm run test:all: typecheck, start the real services the integration tests need (on loopback),
# run every test, stop the services, and close with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
testbed_started=
cleanup() {
  if [[ -n "$testbed_started" ]]; then bash tests/testbed/testbed.sh stop || true; fi
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npm run --silent typecheck || { echo "0 passed, 1 failed"; exit 1; }

# The testbed (tests/testbed/testbed.sh: a private RabbitMQ broker, two libvirt/QEMU hosts with
# their sshd and a bootable guest, all on loopback, installed with apt-get when missing), unless the
# caller points the tests at services of their own with both variables.
if [[ -z "${VMLEDGER_TEST_AMQP_URL:-}" || -z "${VMLEDGER_TEST_LIBVIRT:-}" ]]; then
  testbed_started=1
  if ! assignments=$(bash tests/testbed/testbed.sh start); then
    echo "the testbed did not start"
    echo "0 passed, 1 failed"
    exit 1
  fi
  export VMLEDGER_TEST_AMQP_URL="$(sed -n 's/^VMLEDGER_TEST_AMQP_URL=//p' <<<"$assignments")"
  export VMLEDGER_TEST_LIBVIRT="$(sed -n 's/^VMLEDGER_TEST_LIBVIRT=//p' <<<"$assignments")"
fi

# Debian's Chromium for the web console's browser tests (tests/console), installed when missing. The
# tests are skipped, visibly, when it is not there; a failed install fails the run.
if ! bash tests/console/chromium.sh; then
  echo "chromium could not be installed for the console tests"
  echo "0 passed, 1 failed"
  exit 1
fi

npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
status=$?

node tests/summary.mjs "$results/vitest.json" || status=1
exit $status
