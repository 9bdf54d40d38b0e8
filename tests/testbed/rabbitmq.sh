#!/usr/bin/env bash
# A private RabbitMQ broker for one test run, on loopback (../shared/TESTBED.md has the recipe).
#
#   rabbitmq.sh start [PORT]         install rabbitmq-server if missing, start a broker on
#                                    127.0.0.1:PORT (default 5673), wait until it is ready and print
#                                    its amqp:// URL on stdout (progress goes to stderr)
#   rabbitmq.sh stop [PORT]          stop that broker and its epmd; succeeds when none runs
#   rabbitmq.sh ctl PORT ARGS...     rabbitmqctl against that broker (tests use stop_app/start_app)
#
# Each port is its own instance: node name, Erlang distribution port, epmd port and every file
# (mnesia, logs, pid files, HOME with the Erlang cookie) are its own, under
# ${VMLEDGER_TESTBED_DIR:-$TMPDIR/vmledger-testbed}/rabbitmq-PORT, so a test can restart one broker
# without disturbing another and nothing touches a system-wide RabbitMQ. Processes are ended by PID.
set -euo pipefail

RABBIT_BIN=/usr/lib/rabbitmq/bin
BASE="${VMLEDGER_TESTBED_DIR:-${TMPDIR:-/tmp}/vmledger-testbed}"
READY_TIMEOUT_S=90

log() { echo "rabbitmq testbed: $*" >&2; }
die() { log "$*"; exit 1; }

port_arg() {
  local port="${1:-5673}"
  [[ "$port" =~ ^[0-9]+$ ]] && (( port >= 1024 && port <= 35535 )) || die "bad port ${port}"
  echo "$port"
}

# Everything an instance's rabbitmq-server and rabbitmqctl must agree on. The dist and epmd ports
# are derived from the AMQP port so that two instances never share one, and a private epmd port
# means the epmd we end is ours and not a system broker's.
instance_env() {
  local port="$1"
  DIR="${BASE}/rabbitmq-${port}"
  export HOME="${DIR}/home"
  export RABBITMQ_NODENAME="vmledger-test-${port}@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="${port}"
  export RABBITMQ_DIST_PORT="$(( port + 20000 ))"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_EPMD_PORT="$(( port + 30000 ))"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_MNESIA_BASE="${DIR}/mnesia"
  export RABBITMQ_LOG_BASE="${DIR}/log"
  export RABBITMQ_PID_FILE="${DIR}/rabbitmq.pid"
  # Point every config lookup into the instance directory: a system rabbitmq.conf, env file or
  # plugin list (management, say) must not change ports or behaviour under the tests.
  export RABBITMQ_CONF_ENV_FILE="${DIR}/rabbitmq-env.conf"
  export RABBITMQ_CONFIG_FILE="${DIR}/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="${DIR}/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="${DIR}/enabled_plugins"
  EPMD_PID_FILE="${DIR}/epmd.pid"
}

ctl() {
  "${RABBIT_BIN}/rabbitmqctl" -n "${RABBITMQ_NODENAME}" "$@"
}

install_if_missing() {
  [[ -x "${RABBIT_BIN}/rabbitmq-server" ]] && return 0
  (( EUID == 0 )) || die "rabbitmq-server is not installed and installing it needs root (apt-get install rabbitmq-server)"
  log "installing rabbitmq-server (apt-get)"
  local apt_log
  apt_log="$(mktemp)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rabbitmq-server; } >"${apt_log}" 2>&1; then
    tail -n 30 "${apt_log}" >&2
    rm -f "${apt_log}"
    die "apt-get install rabbitmq-server failed"
  fi
  rm -f "${apt_log}"
  [[ -x "${RABBIT_BIN}/rabbitmq-server" ]] || die "rabbitmq-server installed but ${RABBIT_BIN}/rabbitmq-server is missing"
}

find_epmd() {
  local candidate
  candidate="$(command -v epmd || true)"
  if [[ -z "$candidate" ]]; then
    for candidate in /usr/lib/erlang/erts-*/bin/epmd; do break; done
  fi
  [[ -x "$candidate" ]] || die "epmd not found (is erlang-base installed?)"
  echo "$candidate"
}

pid_alive() {
  local file="$1" pid
  [[ -s "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local port="$1"
  install_if_missing
  instance_env "$port"
  # A broker left over from an interrupted run of this instance would hold the port: end it first.
  if pid_alive "${RABBITMQ_PID_FILE}" || pid_alive "${EPMD_PID_FILE}"; then
    log "stopping a broker left over on port ${port}"
    stop "$port"
    instance_env "$port"
  fi
  port_in_use "$port" && die "127.0.0.1:${port} is already in use by another process"
  port_in_use "${RABBITMQ_DIST_PORT}" && die "127.0.0.1:${RABBITMQ_DIST_PORT} (Erlang distribution) is already in use"
  port_in_use "${ERL_EPMD_PORT}" && die "127.0.0.1:${ERL_EPMD_PORT} (epmd) is already in use"

  rm -rf "${DIR}"
  mkdir -p "${HOME}" "${RABBITMQ_MNESIA_BASE}" "${RABBITMQ_LOG_BASE}"
  : >"${RABBITMQ_CONF_ENV_FILE}"
  : >"${RABBITMQ_CONFIG_FILE}"
  echo '[].' >"${RABBITMQ_ADVANCED_CONFIG_FILE}"
  echo '[].' >"${RABBITMQ_ENABLED_PLUGINS_FILE}"
  if [[ -r /var/lib/rabbitmq/.erlang.cookie ]]; then
    cp /var/lib/rabbitmq/.erlang.cookie "${HOME}/.erlang.cookie"
  else
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"${HOME}/.erlang.cookie"
  fi
  chmod 400 "${HOME}/.erlang.cookie"

  # Our own epmd, started before the node so the node registers with it rather than spawning one
  # we would have to hunt for; its PID is what stop ends.
  local epmd
  epmd="$(find_epmd)"
  "$epmd" -address 127.0.0.1 -port "${ERL_EPMD_PORT}" </dev/null >"${RABBITMQ_LOG_BASE}/epmd.log" 2>&1 &
  echo $! >"${EPMD_PID_FILE}"

  local started=$SECONDS
  "${RABBIT_BIN}/rabbitmq-server" -detached </dev/null >"${RABBITMQ_LOG_BASE}/detached.log" 2>&1 ||
    { stop "$port" || true; die "rabbitmq-server -detached failed"; }
  # `rabbitmq-diagnostics ping` answers before the broker accepts work; await_startup does not.
  until ctl -q await_startup --timeout 10 >/dev/null 2>&1; do
    if (( SECONDS - started > READY_TIMEOUT_S )); then
      tail -n 40 "${RABBITMQ_LOG_BASE}"/*.log >&2 || true
      stop "$port" || true
      die "broker on port ${port} not ready after ${READY_TIMEOUT_S} s"
    fi
    sleep 0.2
  done
  log "broker ready on 127.0.0.1:${port} after $(( SECONDS - started )) s (files in ${DIR})"
  echo "amqp://guest:guest@127.0.0.1:${port}"
}

stop() {
  local port="$1"
  instance_env "$port"
  [[ -d "${DIR}" ]] || return 0
  if pid_alive "${RABBITMQ_PID_FILE}"; then
    local pid
    pid="$(cat "${RABBITMQ_PID_FILE}")"
    # `rabbitmqctl stop PIDFILE` returns once the node's OS process has exited.
    if ! ctl -q stop "${RABBITMQ_PID_FILE}" >/dev/null 2>&1; then
      log "rabbitmqctl stop failed; killing broker PID ${pid}"
      kill "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if pid_alive "${EPMD_PID_FILE}"; then
    kill "$(cat "${EPMD_PID_FILE}")" 2>/dev/null || true
  fi
  rm -rf "${DIR}"
  rmdir "${BASE}" 2>/dev/null || true
}

command="${1:-}"
case "$command" in
  start) start "$(port_arg "${2:-}")" ;;
  stop) stop "$(port_arg "${2:-}")" ;;
  ctl)
    [[ $# -ge 3 ]] || die "usage: $0 ctl PORT ARGS..."
    port="$(port_arg "$2")"
    shift 2
    instance_env "$port"
    [[ -d "${DIR}" ]] || die "no testbed broker on port ${port}"
    ctl "$@"
    ;;
  *) die "usage: $0 start [PORT] | stop [PORT] | ctl PORT ARGS..." ;;
esac
