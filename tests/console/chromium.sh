#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (tests/console/console.test.ts), installed with
# apt-get when /usr/bin/chromium is missing, as the testbed installs its packages. Never a browser
# downloaded by a test tool: playwright-core drives this one.
#
#   chromium.sh     install it if missing; succeeds when /usr/bin/chromium is there
set -euo pipefail

log() { echo "chromium: $*" >&2; }

[[ -x /usr/bin/chromium ]] && exit 0
if (( EUID != 0 )); then
  log "/usr/bin/chromium is missing and installing it needs root (apt-get install chromium); the console tests will be skipped"
  exit 1
fi
log "installing chromium (apt-get)"
apt_log="$(mktemp)"
started=$SECONDS
# Wait for a dpkg lock another apt-get holds, rather than fail.
if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q &&
       DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends chromium; } >"${apt_log}" 2>&1; then
  tail -n 30 "${apt_log}" >&2
  rm -f "${apt_log}"
  log "apt-get install chromium failed"
  exit 1
fi
rm -f "${apt_log}"
[[ -x /usr/bin/chromium ]] || { log "installed chromium but /usr/bin/chromium is missing"; exit 1; }
log "installed in $(( SECONDS - started )) s"
