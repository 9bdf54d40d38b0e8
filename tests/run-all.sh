#!/usr/bin/env bash
# npm run test:all: typecheck, start the real services the integration tests need (on loopback),
# run every test, stop the services, and close with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

results=$(mktemp -d)
rabbitmq_started=
libvirt_started=
cleanup() {
  # Also the brokers tests start for themselves (restart test 5674, libvirt tests 5676), in case
  # vitest died under them.
  if [[ -n "$rabbitmq_started" ]]; then bash tests/testbed/rabbitmq.sh stop 5673 || true; fi
  bash tests/testbed/rabbitmq.sh stop 5674 || true
  bash tests/testbed/rabbitmq.sh stop 5676 || true
  if [[ -n "$libvirt_started" ]]; then bash tests/testbed/libvirt.sh stop || true; fi
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npm run --silent typecheck || { echo "0 passed, 1 failed"; exit 1; }

# A private RabbitMQ broker on loopback for the bus tests (installed with apt-get if missing), unless
# the caller points them at a broker of their own.
if [[ -z "${VMLEDGER_TEST_AMQP_URL:-}" ]]; then
  rabbitmq_started=1
  if ! VMLEDGER_TEST_AMQP_URL=$(bash tests/testbed/rabbitmq.sh start 5673 | tail -n 1); then
    echo "the RabbitMQ testbed did not start"
    echo "0 passed, 1 failed"
    exit 1
  fi
  export VMLEDGER_TEST_AMQP_URL
fi

# Two libvirt/QEMU hosts with sshd on 127.0.0.2 and 127.0.0.3 and a bootable guest image, for the
# driver's conformance suite and the integration tests on real hypervisors.
if [[ -z "${VMLEDGER_TEST_LIBVIRT:-}" ]]; then
  libvirt_started=1
  if ! VMLEDGER_TEST_LIBVIRT=$(bash tests/testbed/libvirt.sh start | tail -n 1); then
    echo "the libvirt testbed did not start"
    echo "0 passed, 1 failed"
    exit 1
  fi
  export VMLEDGER_TEST_LIBVIRT
fi

npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
status=$?

node tests/summary.mjs "$results/vitest.json" || status=1
exit $status
