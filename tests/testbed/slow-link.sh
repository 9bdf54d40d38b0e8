#!/usr/bin/env bash
# A slow link to the external host, for the import benchmark (issue 16 item 9): on one machine the
# testbed's hosts share a loopback link that is never the bottleneck, so the pipelining of a streamed
# import cannot show. This puts a second sshd for the external host's user behind a veth pair in a
# network namespace of its own, the link limited with tc (token bucket, both directions):
#
#   10.231.0.1/30  vmlb-host  (root namespace: kvm-a's sshd, the agents)
#   10.231.0.2/30  vmlb-ext   (namespace vmledger-slow-link: the sshd, on port 2222)
#
#   slow-link.sh start [RATE]   set it up (RATE: tc's words, default 400mbit), stopping a left-over one
#                               first; prints "10.231.0.2 2222" as the last line
#   slow-link.sh stop           end the sshd (and its sessions: every process in the namespace) by PID,
#                               remove the veth pair and the namespace; succeeds when none is there
#
# Needs the libvirt testbed started (user vmhost, the external host's host key). Files live in
# ${VMLEDGER_TESTBED_DIR:-$TMPDIR/vmledger-testbed}/slow-link.
set -euo pipefail

BASE="${VMLEDGER_TESTBED_DIR:-${TMPDIR:-/tmp}/vmledger-testbed}"
DIR="${BASE}/slow-link"
HOSTKEY="${BASE}/libvirt/hostkeys/external/ssh_host_ed25519_key"
NS=vmledger-slow-link
HOST_IF=vmlb-host
EXT_IF=vmlb-ext
HOST_ADDR=10.231.0.1
EXT_ADDR=10.231.0.2
PORT=2222
VM_USER=vmhost

log() { echo "slow link: $*" >&2; }
die() { log "$*"; exit 1; }

stop() {
  local pid
  if ip netns list 2>/dev/null | grep -qw "${NS}"; then
    # The sshd and whatever its sessions started (qemu-img, cat, sftp-server) are the namespace's.
    for pid in $(ip netns pids "${NS}" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 30); do
      [[ -z "$(ip netns pids "${NS}" 2>/dev/null)" ]] && break
      sleep 0.1
    done
    for pid in $(ip netns pids "${NS}" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  fi
  ip link del "${HOST_IF}" 2>/dev/null || true
  ip netns del "${NS}" 2>/dev/null || true
  rm -rf "${DIR}"
  if ip netns list 2>/dev/null | grep -qw "${NS}" || ip link show "${HOST_IF}" >/dev/null 2>&1; then die "could not remove ${NS}/${HOST_IF}"; fi
}

start() {
  local rate="${1:-400mbit}"
  (( EUID == 0 )) || die "needs root"
  [[ -s "${HOSTKEY}" ]] || die "no host key of the external host at ${HOSTKEY}: start the libvirt testbed first"
  id "${VM_USER}" >/dev/null 2>&1 || die "no user ${VM_USER}: start the libvirt testbed first"
  stop
  trap 'log "start failed; removing what was made"; stop || true' EXIT
  mkdir -p "${DIR}"
  ip netns add "${NS}"
  ip netns exec "${NS}" ip link set lo up
  ip link add "${HOST_IF}" type veth peer name "${EXT_IF}"
  ip link set "${EXT_IF}" netns "${NS}"
  ip addr add "${HOST_ADDR}/30" dev "${HOST_IF}"
  ip link set "${HOST_IF}" up
  ip netns exec "${NS}" ip addr add "${EXT_ADDR}/30" dev "${EXT_IF}"
  ip netns exec "${NS}" ip link set "${EXT_IF}" up
  # The bulk of an import flows out of the namespace; the requests and acknowledgements the other way.
  ip netns exec "${NS}" tc qdisc add dev "${EXT_IF}" root tbf rate "${rate}" burst 1mb latency 50ms
  tc qdisc add dev "${HOST_IF}" root tbf rate "${rate}" burst 1mb latency 50ms
  cat >"${DIR}/sshd_config" <<EOF
ListenAddress ${EXT_ADDR}:${PORT}
HostKey ${HOSTKEY}
PidFile ${DIR}/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers ${VM_USER}
UseDNS no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
Subsystem sftp internal-sftp
EOF
  chmod 0600 "${DIR}/sshd_config"
  mkdir -p /run/sshd
  ip netns exec "${NS}" /usr/sbin/sshd -f "${DIR}/sshd_config" -E "${DIR}/sshd.log"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/${EXT_ADDR}/${PORT}") 2>/dev/null && break
    sleep 0.1
  done
  (exec 3<>"/dev/tcp/${EXT_ADDR}/${PORT}") 2>/dev/null || die "the sshd at ${EXT_ADDR}:${PORT} does not answer: $(cat "${DIR}/sshd.log")"
  trap - EXIT
  log "${EXT_ADDR}:${PORT} behind ${rate} (namespace ${NS})"
  echo "${EXT_ADDR} ${PORT}"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  *)
    echo "usage: $0 start [RATE] | stop" >&2
    exit 2
    ;;
esac
