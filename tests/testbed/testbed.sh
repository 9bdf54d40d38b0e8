#!/usr/bin/env bash
# The whole testbed in one command: a private RabbitMQ broker (rabbitmq.sh, 127.0.0.1:5673) and the
# two libvirt/QEMU hosts with their guest image (libvirt.sh, 127.0.0.2 and 127.0.0.3). Both install
# what is missing with apt-get.
#
#   testbed.sh start    start both; print the variables the tests read, as shell assignments:
#                         VMLEDGER_TEST_AMQP_URL=amqp://…   VMLEDGER_TEST_LIBVIRT=/…/testbed.json
#   testbed.sh stop     stop both (and the brokers tests start for themselves); succeeds when none runs
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

case "${1:-}" in
  start)
    amqp_url="$(bash "$here/rabbitmq.sh" start 5673 | tail -n 1)"
    if ! libvirt_file="$(bash "$here/libvirt.sh" start | tail -n 1)"; then
      bash "$here/rabbitmq.sh" stop 5673 || true
      exit 1
    fi
    printf 'VMLEDGER_TEST_AMQP_URL=%s\nVMLEDGER_TEST_LIBVIRT=%s\n' "$amqp_url" "$libvirt_file"
    ;;
  stop)
    status=0
    for port in 5673 5674 5676; do bash "$here/rabbitmq.sh" stop "$port" || status=1; done
    # The import benchmark's slow link to the external host (slow-link.sh), should one be left.
    bash "$here/slow-link.sh" stop || status=1
    bash "$here/libvirt.sh" stop || status=1
    exit "$status"
    ;;
  *)
    echo "usage: $0 start | stop" >&2
    exit 2
    ;;
esac
