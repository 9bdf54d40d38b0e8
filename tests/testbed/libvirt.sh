#!/usr/bin/env bash
# Two real libvirt/QEMU hypervisor hosts on loopback, and a tiny bootable guest image, for the
# integration tests (../shared/TESTBED.md has the recipes this follows).
#
#   libvirt.sh start                 install what is missing (apt-get), build the guest image once,
#                                    start hosts kvm-a (sshd on 127.0.0.2:2222) and kvm-b (sshd on
#                                    127.0.0.3:2222), wait until both answer and print the path of
#                                    the JSON description (testbed.json) as the last line on stdout;
#                                    progress goes to stderr. A testbed left running is stopped first.
#                                    A third host, "external" (sshd on 127.0.0.4:2222, same user and
#                                    password), is one vmledger does not manage: no agent serves it; it
#                                    holds stopped domains to import (ext-two: qcow2 root + raw data
#                                    disk, two NICs; ext-raw; ext-vmdk), described under "external" in
#                                    testbed.json. It adds ~1-2 s to a start (capabilities from kvm-a).
#                                    Disk images to import in place lie in kvm-a's storage (its local
#                                    pool) and in TB/shared, both hosts' shared storage ("importImages"
#                                    in testbed.json; see prepare_import_images).
#                                    A fourth, "vmware" (sshd on 127.0.0.5:2222, same user and password),
#                                    is an ESXi-style host with no libvirt: /vmfs/volumes/datastore1 holds
#                                    the real guest of vmware-guest.sh (cached; built when missing) and
#                                    two blank ones (see "The VMware host" below), under "vmware" in
#                                    testbed.json. virt-v2v, nbdkit, libnbd-bin and debootstrap are
#                                    installed (INITRD=No) when missing.
#   libvirt.sh stop                  destroy every domain of the three hosts, end their libvirtd, virtlogd,
#                                    sshd and QEMU processes (by PID) and remove their runtime state;
#                                    succeeds when nothing of the testbed runs
#   libvirt.sh exec HOST -- CMD...   run CMD as root inside HOST's (kvm-a|kvm-b|external) mount namespace,
#                                    e.g. `libvirt.sh exec kvm-a -- virsh -c qemu:///system list --all`
#
# Everything lives under ${VMLEDGER_TESTBED_DIR:-$TMPDIR/vmledger-testbed}/libvirt ("TB" below):
#   testbed.json                 the description (hosts, credentials, guest image and its controls)
#   keys/id_ed25519              the client key of user vmhost (root-only copy; the same key is in
#                                ~vmhost/.ssh/id_ed25519 for host-to-host migration, and its public
#                                half in ~vmhost/.ssh/authorized_keys)
#   hostkeys/HOST/               each sshd's own ed25519 host key (kept across restarts, so the
#                                pinned fingerprint stays the same)
#   guest/SHA256/guest.qcow2     the guest image, cached by the hash of everything it is built from
#   bin/guest-ready              the guest's readiness check (see below)
#   HOST/images[/templates]      HOST's storage directory (owned by vmhost); a plain directory that
#                                every namespace sees, so a disk of kvm-a is also reachable from
#                                kvm-b (shared storage: live migration needs no storage copy)
#   HOST/etc, var-lib, var-log,  HOST's private /etc/libvirt (a copy of the system one, edited),
#   run                          /var/lib/libvirt, /var/log/libvirt (libvirtd.log, qemu/DOM.log),
#                                and pid files, sshd_config, sshd.log; all removed by stop
#   cache/HOST                   HOST's /var/cache/libvirt (QEMU capabilities; kept)
#
# Each host is one mount namespace (`unshare --mount --propagation private`) with a tmpfs on
# /run/libvirt and bind mounts of its private libvirt directories, in which its virtlogd, libvirtd
# and sshd run; no libvirtd ever runs in the root mount namespace, whose /run/libvirt stays free for
# anybody else. Per host: its own host_uuid, auth_unix_rw = "none" with the socket in group
# libvirt (0770), no cgroups and no per-domain mount namespace (both hosts run in one container,
# where a domain of one name on both hosts during a migration would share a cgroup), disjoint port
# ranges for incoming migrations (kvm-a 49152-49183, kvm-b 49184-49215), VNC/SPICE (kvm-a 5900-5999,
# kvm-b 6000-6099) and websockets. (libvirt refuses a loopback migration_host/migration_address
# in qemu.conf, so the source names them: --migrateuri tcp://127.0.0.1 --listen-address 127.0.0.1.)
# User vmhost (created if missing, member of group libvirt, password random per start) logs in to
# both sshds by key or password and runs `virsh -c qemu:///system` there; from one host it reaches
# the other with the peer's migrationUri (qemu+ssh://vmhost@PEER:2222/system?keyfile=
# /home/vmhost/.ssh/id_ed25519&no_verify=1; ~vmhost/.ssh/known_hosts pins both host keys).
#
# Domains: <domain type='qemu'> (TCG; KVM does not boot Linux guests here), 128 MiB, and
# <features><acpi/></features>: without it QEMU has no ACPI, `virsh shutdown` does nothing and the
# guest boots slower (~11 s). Disks live in a storage directory; a root disk may be a qcow2 overlay
# of <storagePath>/templates/ID.qcow2, created with `qemu-img create -f qcow2 -F qcow2 -b TEMPLATE
# OVERLAY` (libvirt refuses a backing file whose format the overlay does not record). libvirt's
# dynamic_ownership chowns the disks to libvirt-qemu while the domain runs; it gives the overlay
# back to its owner afterwards but leaves backing files (the template) owned by libvirt-qemu, mode
# 0644: still readable by all, and vmhost can still delete it (its directory is vmhost's), but not
# overwrite it in place. <interface type='user'> (QEMU's user-mode networking, libslirp) works, with
# the given <mac>, also across migrations; with no <model> libvirt picks rtl8139, for which the
# guest kernel has no driver, which does not matter to the guest (it does not use its NIC).
# Live migration, driven from the source host:
#   virsh -c qemu:///system migrate --live --persistent --undefinesource --unsafe DOM \
#     'qemu+ssh://vmhost@127.0.0.3:2222/system?keyfile=/home/vmhost/.ssh/id_ed25519&no_verify=1' \
#     --migrateuri tcp://127.0.0.1 --listen-address 127.0.0.1
# (--migrateuri is needed: without it the destination offers its hostname, which both share). Two
# migrations in opposite directions at once work (the destinations listen on 49152 and 49184).
#
# The guest (guest.qcow2, 64 MiB virtual, ~16 MB): an MBR disk whose FAT partition holds SYSLINUX,
# the Debian cloud kernel installed on this machine (linux-image-cloud-amd64: ACPI button, evdev
# and virtio as modules, AT keyboard built in) and a busybox initramfs, built without mounting or
# loop devices (mkfs.vfat -C on a file, syslinux --install, mcopy). Its init loads evdev, button,
# virtio_pci/blk/scsi/net/balloon, sd_mod and ata_piix, and runs busybox acpid on the input devices:
#   - ACPI power button (virsh shutdown): `poweroff -f`, unless told to ignore it
#   - key P (virsh send-key DOM KEY_P, to the PS/2 keyboard every x86 domain has): `poweroff -f`
#     from inside                                               -> testbed.json guest.powerOffFromInside
#   - key I (virsh send-key DOM KEY_I): ignore the ACPI power button from then on (until the guest
#     boots again)                                              -> testbed.json guest.ignoreShutdown
# Readiness (guest.readyCheck): once acpid listens, the guest writes one 512-byte block (the same
# bytes each time) to sector 2 of its boot disk (found by a magic in sector 1) and repeats that
# every second. TB/bin/guest-ready DOM (run inside the host: libvirt.sh exec HOST -- ...) exits 0
# when `virsh domstats --block DOM` counts a write (block.N.wr.reqs > 0). The count starts at 0
# with each QEMU process: right after a start, and ~1 s after a migration, but not across a
# `virsh reboot` (same process; it works: libvirt's ACPI power-off + reset). The guest also prints
# "vmledger-guest: ready" on its console (ttyS0 if the domain has a serial port, e.g. a
# <serial type='file'> log, else tty0). Disk buses the guest sees: virtio,
# scsi (virtio-scsi), ide (checked: virtio on pc and q35, ide and scsi on pc); not sata (no ahci in
# the cloud kernel: such a disk boots, but gives no readiness signal).
#
# Verified by `libvirt.sh selftest` (on a started testbed; it uses vmhost over ssh as the driver
# would, and removes what it creates): key and password login, host key fingerprints; a domain on
# kvm-a (qcow2 overlay of a template, user NIC with a MAC) boots to ready; virsh shutdown stops it;
# powerOffFromInside stops it; after ignoreShutdown it still runs 5 s after virsh shutdown; two
# live migrations at once (kvm-a -> kvm-b and kvm-b -> kvm-a), each domain then on its new host
# only, ready there, and stopped there by virsh shutdown; `virsh event --loop --all` over ssh
# reports the lifecycle events. Timings on this 2-core machine (TCG):
#   install (apt-get, nothing installed yet)     ~30 s   guest build + boot test (once)   ~6 s
#   start (first time: QEMU capability probe)    ~11 s   start (capabilities cached)      ~3 s
#   start -> guest ready                         ~4.5 s  virsh shutdown -> shut off       ~1.5 s
#   powerOffFromInside -> shut off               ~2 s    stop (with running domains)      ~1-4 s
#   live migration, 128 MiB (two at once)        ~2.7 s  selftest                         ~40 s
set -euo pipefail

BASE="${VMLEDGER_TESTBED_DIR:-${TMPDIR:-/tmp}/vmledger-testbed}"
TB="${BASE}/libvirt"
JSON="${TB}/testbed.json"
SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
HOSTS=(kvm-a kvm-b)
# A third host vmledger does not manage (issue 16 item 7): no agent, only stopped domains to import.
EXTERNAL=external
# A VMware (ESXi-style) host (issue 17): no libvirt, only an sshd and a /vmfs/volumes tree.
VMWARE=vmware
LIBVIRT_HOSTS=(kvm-a kvm-b "${EXTERNAL}")
ALL_HOSTS=("${LIBVIRT_HOSTS[@]}" "${VMWARE}")
SSH_PORT=2222
VM_USER=vmhost
GUEST_MEMORY_MIB=128
GUEST_VSIZE_MIB=64
GUEST_FORMAT=3 # bump when the guest's build below changes in a way the input hash does not see
READY_TIMEOUT_S=90
# The modules the guest loads (with their dependencies), in this order.
GUEST_MODULES=(evdev button virtio_pci virtio_blk virtio_scsi sd_mod ata_piix virtio_net virtio_balloon)
# Debian packages: command or file that shows it is installed -> package.
REQUIRED_PACKAGES=(
  "/usr/sbin/libvirtd:libvirt-daemon-system"
  "/usr/sbin/virtlogd:libvirt-daemon-system"
  "/usr/bin/virsh:libvirt-clients"
  "/usr/bin/qemu-system-x86_64:qemu-system-x86"
  "/usr/bin/qemu-img:qemu-utils"
  "/usr/bin/nbdkit:nbdkit"
  "/usr/sbin/sshd:openssh-server"
  "/usr/bin/ssh-keygen:openssh-client"
  "/bin/busybox:busybox-static"
  "/usr/bin/syslinux:syslinux"
  "/usr/lib/syslinux/mbr/mbr.bin:syslinux-common"
  "/usr/bin/mcopy:mtools"
  "/usr/sbin/mkfs.vfat:dosfstools"
  "/usr/sbin/modprobe:kmod"
)
KERNEL_PACKAGE=linux-image-cloud-amd64

log() { echo "libvirt testbed: $*" >&2; }
die() { log "$*"; exit 1; }

host_index() { case "$1" in kvm-a) echo 0 ;; kvm-b) echo 1 ;; external) echo 2 ;; vmware) echo 3 ;; *) die "unknown host $1 (kvm-a, kvm-b, external or vmware)" ;; esac; }
host_addr() { echo "127.0.0.$(( $(host_index "$1") + 2 ))"; }
host_peer() { case "$1" in kvm-a) echo kvm-b ;; kvm-b) echo kvm-a ;; esac; }
host_dir() { echo "${TB}/$1"; }
vm_home() { getent passwd "${VM_USER}" | cut -d: -f6; }
migration_uri() { echo "qemu+ssh://${VM_USER}@$(host_addr "$1"):${SSH_PORT}/system?keyfile=$(vm_home)/.ssh/id_ed25519&no_verify=1"; }

# A process that runs (a zombie, which lingers until PID 1 reaps it, does not).
proc_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

pid_alive() {
  local file="$1" pid
  [[ -s "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && proc_alive "$pid"
}

# ---------------------------------------------------------------------------------------------
# Packages

busybox_is_static() {
  [[ -x /bin/busybox ]] && [[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" == "install ok installed" ]]
}

# The newest /boot/vmlinuz-VERSION whose modules are installed and give evdev and the ACPI button.
find_kernel() {
  local f ver
  for f in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    ver="${f#/boot/vmlinuz-}"
    [[ -r "$f" && -f "/lib/modules/${ver}/modules.dep" ]] || continue
    modprobe -S "$ver" --show-depends evdev >/dev/null 2>&1 || continue
    modprobe -S "$ver" --show-depends button >/dev/null 2>&1 || continue
    echo "$ver"
    return 0
  done
  return 1
}

install_if_missing() {
  local missing=() entry path pkg
  for entry in "${REQUIRED_PACKAGES[@]}"; do
    path="${entry%%:*}" pkg="${entry#*:}"
    [[ -e "$path" ]] || missing+=("$pkg")
  done
  busybox_is_static || missing+=(busybox-static)
  [[ -x /usr/sbin/modprobe ]] && find_kernel >/dev/null || missing+=("${KERNEL_PACKAGE}")
  (( ${#missing[@]} == 0 )) && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  (( EUID == 0 )) || die "missing packages (${missing[*]}); installing them needs root"
  log "installing ${missing[*]} (apt-get)"
  local apt_log started=$SECONDS
  apt_log="$(mktemp)"
  # Wait for a dpkg lock another apt-get holds, rather than fail.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q &&
         DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"; } >"${apt_log}" 2>&1; then
    tail -n 30 "${apt_log}" >&2
    rm -f "${apt_log}"
    die "apt-get install ${missing[*]} failed"
  fi
  rm -f "${apt_log}"
  for entry in "${REQUIRED_PACKAGES[@]}"; do
    [[ -e "${entry%%:*}" ]] || die "installed ${entry#*:} but ${entry%%:*} is missing"
  done
  find_kernel >/dev/null || die "installed ${KERNEL_PACKAGE} but found no usable /boot/vmlinuz-* with modules"
  log "installed in $(( SECONDS - started )) s"
}

# ---------------------------------------------------------------------------------------------
# The guest image

# Writes the initramfs tree of the guest into $1 (kernel version $2).
guest_tree() {
  local root="$1" kver="$2" m
  mkdir -p "${root}"/{bin,dev,proc,sys,run,tmp,etc/acpi,lib/modules}
  cp /bin/busybox "${root}/bin/busybox"
  # Modules, flat, in load order, each once (dependencies first).
  : >"${root}/etc/modules.order"
  for m in "${GUEST_MODULES[@]}"; do
    modprobe -S "$kver" --show-depends "$m" 2>/dev/null || true
  done | while read -r kind path _; do
    [[ "$kind" == insmod ]] || continue
    local name
    name="$(basename "$path")"
    grep -qxF "${name%%.ko*}.ko" "${root}/etc/modules.order" && continue
    case "$path" in
      *.ko) cp "$path" "${root}/lib/modules/${name}" ;;
      *.ko.xz) xz -dc "$path" >"${root}/lib/modules/${name%.xz}" ;;
      *.ko.zst) zstd -qdc "$path" >"${root}/lib/modules/${name%.zst}" ;;
      *.ko.gz) gzip -dc "$path" >"${root}/lib/modules/${name%.gz}" ;;
      *) continue ;;
    esac
    echo "${name%%.ko*}.ko" >>"${root}/etc/modules.order"
  done
  # busybox acpid: -M maps input events to a description, -a maps a word of it to a handler in
  # /etc/acpi (run when the key goes down). KEY_POWER is the ACPI power button.
  cat >"${root}/etc/acpi.map" <<'EOF'
EV_KEY 1 KEY_POWER 116 1 button/power PWRF 00000080
EV_KEY 1 KEY_P 25 1 vmledger/key VMLPOWEROFF 00000000
EV_KEY 1 KEY_I 23 1 vmledger/key VMLIGNOREACPI 00000000
EOF
  cat >"${root}/etc/acpid.conf" <<'EOF'
PWRF power-button
VMLPOWEROFF poweroff-now
VMLIGNOREACPI ignore-power-button
EOF
  cat >"${root}/etc/acpi/power-button" <<'EOF'
#!/bin/sh
if [ -e /run/ignore-power-button ]; then
  echo "vmledger-guest: ACPI power button ignored" >/dev/console
  exit 0
fi
echo "vmledger-guest: ACPI power button: poweroff -f" >/dev/console
exec poweroff -f
EOF
  cat >"${root}/etc/acpi/poweroff-now" <<'EOF'
#!/bin/sh
echo "vmledger-guest: key P: poweroff -f" >/dev/console
exec poweroff -f
EOF
  cat >"${root}/etc/acpi/ignore-power-button" <<'EOF'
#!/bin/sh
touch /run/ignore-power-button
echo "vmledger-guest: key I: ignoring the ACPI power button from now on" >/dev/console
EOF
  # The readiness block (sector 2 of the boot disk), and the magic of sector 1 that marks it.
  { printf 'vmledger-guest ready\n'; head -c 491 /dev/zero; } >"${root}/etc/ready.blk"
  cat >"${root}/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
say() { echo "vmledger-guest: $* (uptime $(cut -d' ' -f1 /proc/uptime) s)"; }
say "init"
while read -r m; do insmod "/lib/modules/$m" || say "insmod $m failed"; done </etc/modules.order
# acpid opens /dev/input/event0, 1, ... once, at its start: wait for the power button's device.
i=0
until grep -qs 'Power Button' /sys/class/input/input*/name && [ -e /dev/input/event0 ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { say "no power button input device"; break; }
  sleep 0.05
done
sleep 0.2
acpid -d -c /etc/acpi -a /etc/acpid.conf -M /etc/acpi.map -p /run/acpid.pid &
acpid_pid=$!
i=0
until ls -l /proc/$acpid_pid/fd 2>/dev/null | grep -q /dev/input/event; do
  i=$((i + 1)); [ $i -gt 100 ] && { say "acpid did not open the input devices"; break; }
  sleep 0.05
done
boot_disk() {
  for d in /sys/block/vd* /sys/block/sd* /sys/block/hd*; do
    [ -e "$d" ] || continue
    d=${d##*/}
    dd if=/dev/$d bs=512 skip=1 count=1 2>/dev/null | grep -q VMLEDGER-TESTBED-GUEST && { echo $d; return 0; }
  done
  return 1
}
disk=
n=0
while :; do
  [ -n "$disk" ] || disk=$(boot_disk) || disk=
  if [ -n "$disk" ]; then
    dd if=/etc/ready.blk of=/dev/$disk bs=512 seek=2 count=1 oflag=direct conv=notrunc,fsync 2>/dev/null
  fi
  # n: 0 = nothing said yet, 1 = said ready with the disk, 2 = said ready without one
  if [ $n = 0 ] || { [ $n = 2 ] && [ -n "$disk" ]; }; then
    if [ -n "$disk" ]; then say "ready (boot disk $disk)"; n=1; else say "ready (boot disk not found yet)"; n=2; fi
  fi
  sleep 1
done
EOF
  chmod 0755 "${root}/init" "${root}/etc/acpi/"*
}

# 4-byte little-endian value as printf escapes.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )); }

# Builds (or finds cached) the guest image; sets GUEST_IMAGE and GUEST_DIR.
build_guest() {
  local kver work hash dir
  kver="$(find_kernel)" || die "no usable kernel in /boot"
  work="$(mktemp -d "${TB}/guest-build.XXXXXX")"
  guest_tree "${work}/root" "$kver"
  cat >"${work}/syslinux.cfg" <<EOF
DEFAULT vmledger
PROMPT 0
TIMEOUT 0
LABEL vmledger
  LINUX /vmlinuz
  INITRD /initrd.gz
  APPEND console=tty0 console=ttyS0,115200 rdinit=/init quiet loglevel=3 panic=10 mitigations=off
EOF
  hash="$( {
    echo "format ${GUEST_FORMAT} vsize ${GUEST_VSIZE_MIB} kernel ${kver}"
    sha256sum "/boot/vmlinuz-${kver}" /usr/lib/syslinux/mbr/mbr.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 2>/dev/null | cut -d' ' -f1
    syslinux --version 2>&1 | head -n 1
    cat "${work}/syslinux.cfg"
    (cd "${work}/root" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-16)"
  dir="${TB}/guest/${hash}"
  if [[ -s "${dir}/guest.qcow2" && -s "${dir}/boot-seconds" ]]; then
    rm -rf "${work}"
    GUEST_DIR="$dir" GUEST_IMAGE="${dir}/guest.qcow2"
    return 0
  fi
  log "building the guest image (kernel ${kver})"
  local started=$SECONDS
  (cd "${work}/root" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) | gzip -9 >"${work}/initrd.gz"
  # FAT partition: kernel + initramfs + SYSLINUX, sized to fit with room to spare.
  local part_kib part_start=2048 part_sectors
  part_kib=$(( ( $(stat -c %s "/boot/vmlinuz-${kver}") + $(stat -c %s "${work}/initrd.gz") ) / 1024 + 4096 ))
  part_kib=$(( (part_kib + 1023) / 1024 * 1024 ))
  part_sectors=$(( part_kib * 2 ))
  mkfs.vfat -C -n VMLEDGER -h "$part_start" "${work}/part.img" "$part_kib" >/dev/null
  syslinux --install "${work}/part.img"
  MTOOLS_SKIP_CHECK=1 mcopy -i "${work}/part.img" "/boot/vmlinuz-${kver}" ::vmlinuz
  MTOOLS_SKIP_CHECK=1 mcopy -i "${work}/part.img" "${work}/initrd.gz" ::initrd.gz
  MTOOLS_SKIP_CHECK=1 mcopy -i "${work}/part.img" "${work}/syslinux.cfg" ::syslinux.cfg
  # MBR: SYSLINUX's boot code, one active FAT16-LBA partition at 1 MiB; sector 1 holds the magic
  # the guest finds its boot disk by.
  truncate -s $(( part_start * 512 )) "${work}/disk.raw"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="${work}/disk.raw" bs=440 count=1 conv=notrunc status=none
  printf "\\x80\\xfe\\xff\\xff\\x0e\\xfe\\xff\\xff$(le32 "$part_start")$(le32 "$part_sectors")" |
    dd of="${work}/disk.raw" bs=1 seek=446 conv=notrunc status=none
  printf '\x55\xaa' | dd of="${work}/disk.raw" bs=1 seek=510 conv=notrunc status=none
  printf 'VMLEDGER-TESTBED-GUEST format %s\n' "${GUEST_FORMAT}" | dd of="${work}/disk.raw" bs=512 seek=1 conv=notrunc status=none
  cat "${work}/part.img" >>"${work}/disk.raw"
  truncate -s "${GUEST_VSIZE_MIB}M" "${work}/disk.raw"
  qemu-img convert -f raw -O qcow2 "${work}/disk.raw" "${work}/guest.qcow2"
  log "guest image built in $(( SECONDS - started )) s; boot test"
  local boot_s
  boot_s="$(boot_test "${work}")" || { rm -rf "${work}"; die "the guest image did not boot (see above)"; }
  log "guest boots to ready in ${boot_s} s (plain QEMU, TCG)"
  mkdir -p "$dir"
  mv "${work}/guest.qcow2" "${dir}/guest.qcow2.tmp"
  chmod 0644 "${dir}/guest.qcow2.tmp"
  mv "${dir}/guest.qcow2.tmp" "${dir}/guest.qcow2"
  echo "$boot_s" >"${dir}/boot-seconds"
  rm -rf "${work}"
  # Images built from older inputs (kernel, busybox, this script) are of no more use.
  find "${TB}/guest" -mindepth 1 -maxdepth 1 -type d ! -name "${hash}" -exec rm -rf {} +
  GUEST_DIR="$dir" GUEST_IMAGE="${dir}/guest.qcow2"
}

# Boots a qcow2 overlay of $1/guest.qcow2 in plain QEMU (TCG, 128 MiB) until the guest prints that
# it is ready; prints the seconds that took (rounded up). QEMU is ended by its PID.
boot_test() {
  local work="$1" pid started_ns now_ns waited=0
  qemu-img create -q -f qcow2 -F qcow2 -b "${work}/guest.qcow2" "${work}/overlay.qcow2"
  started_ns=$(date +%s%N)
  qemu-system-x86_64 -machine pc,accel=tcg -m "${GUEST_MEMORY_MIB}" -display none -no-reboot \
    -drive "file=${work}/overlay.qcow2,if=virtio,format=qcow2" -nic none \
    -serial "file:${work}/serial.log" -monitor none -daemonize -pidfile "${work}/qemu.pid" \
    </dev/null >"${work}/qemu.out" 2>&1 3>&- || { cat "${work}/qemu.out" >&2; return 1; }
  pid="$(cat "${work}/qemu.pid")"
  until grep -q 'vmledger-guest: ready (boot disk [a-z]' "${work}/serial.log" 2>/dev/null; do
    if ! proc_alive "$pid" || (( waited > 600 )); then
      kill "$pid" 2>/dev/null || true
      cat "${work}/serial.log" >&2 || true
      return 1
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  now_ns=$(date +%s%N)
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do proc_alive "$pid" || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  echo $(( (now_ns - started_ns + 999999999) / 1000000000 ))
}

# ---------------------------------------------------------------------------------------------
# User, keys

ensure_user() {
  getent group libvirt >/dev/null || die "group libvirt is missing (libvirt-daemon-system creates it)"
  if ! id "${VM_USER}" >/dev/null 2>&1; then
    log "creating user ${VM_USER}"
    if getent group "${VM_USER}" >/dev/null; then
      useradd -m -s /bin/bash -g "${VM_USER}" -G libvirt "${VM_USER}"
    else
      useradd -m -s /bin/bash -U -G libvirt "${VM_USER}"
    fi
  elif ! id -nG "${VM_USER}" | tr ' ' '\n' | grep -qx libvirt; then
    usermod -a -G libvirt "${VM_USER}"
  fi
  PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
  echo "${VM_USER}:${PASSWORD}" | chpasswd
  usermod -U "${VM_USER}" 2>/dev/null || true

  mkdir -p "${TB}/keys"
  chmod 0700 "${TB}/keys"
  if [[ ! -s "${TB}/keys/id_ed25519" || ! -s "${TB}/keys/id_ed25519.pub" ]]; then
    rm -f "${TB}/keys/id_ed25519" "${TB}/keys/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C "vmledger-testbed-${VM_USER}" -f "${TB}/keys/id_ed25519"
  fi
  chmod 0600 "${TB}/keys/id_ed25519"
  local home pub
  home="$(vm_home)"
  pub="$(cat "${TB}/keys/id_ed25519.pub")"
  install -d -m 0700 -o "${VM_USER}" -g "${VM_USER}" "${home}/.ssh"
  install -m 0600 -o "${VM_USER}" -g "${VM_USER}" "${TB}/keys/id_ed25519" "${home}/.ssh/id_ed25519"
  install -m 0644 -o "${VM_USER}" -g "${VM_USER}" "${TB}/keys/id_ed25519.pub" "${home}/.ssh/id_ed25519.pub"
  touch "${home}/.ssh/authorized_keys"
  grep -qxF "$pub" "${home}/.ssh/authorized_keys" || echo "$pub" >>"${home}/.ssh/authorized_keys"
  chown "${VM_USER}:${VM_USER}" "${home}/.ssh/authorized_keys"
  chmod 0600 "${home}/.ssh/authorized_keys"
  # Pin both hosts' keys for vmhost (and so for `virsh ... qemu+ssh://` between the hosts).
  local kh="${home}/.ssh/known_hosts" h tmp
  tmp="$(mktemp)"
  { [[ -f "$kh" ]] && grep -vE "^\[127\.0\.0\.[2345]\]:${SSH_PORT} " "$kh" || true; } >"$tmp"
  for h in "${ALL_HOSTS[@]}"; do
    echo "[$(host_addr "$h")]:${SSH_PORT} $(cut -d' ' -f1,2 "${TB}/hostkeys/${h}/ssh_host_ed25519_key.pub")" >>"$tmp"
  done
  install -m 0644 -o "${VM_USER}" -g "${VM_USER}" "$tmp" "$kh"
  rm -f "$tmp"
}

ensure_host_key() {
  local h="$1" d="${TB}/hostkeys/$1"
  mkdir -p "$d"
  chmod 0700 "$d"
  if [[ ! -s "${d}/ssh_host_ed25519_key" || ! -s "${d}/ssh_host_ed25519_key.pub" ]]; then
    rm -f "${d}/ssh_host_ed25519_key" "${d}/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "vmledger-testbed-${h}" -f "${d}/ssh_host_ed25519_key"
  fi
  chmod 0600 "${d}/ssh_host_ed25519_key"
}

# ---------------------------------------------------------------------------------------------
# Hosts

# Copies a directory skeleton (directories only, same owner and mode) of $1 into $2.
copy_skeleton() {
  local src="$1" dst="$2" d
  mkdir -p "$dst"
  [[ -d "$src" ]] || return 0
  chown --reference="$src" "$dst"
  chmod --reference="$src" "$dst"
  while IFS= read -r -d '' d; do
    mkdir -p "${dst}/${d}"
    chown --reference="${src}/${d}" "${dst}/${d}"
    chmod --reference="${src}/${d}" "${dst}/${d}"
  done < <(cd "$src" && find . -mindepth 1 -maxdepth 2 -type d -printf '%P\0')
}

# Sets KEY = VALUE in a libvirt config file (drops any active setting of KEY first).
conf_set() {
  local file="$1" key="$2" value="$3"
  sed -i -E "/^[[:space:]]*${key}[[:space:]]*=/d" "$file"
  echo "${key} = ${value}" >>"$file"
}

# HOST's sshd configuration: its own address, port 2222, user vmhost by key or password.
write_sshd_config() {
  local h="$1" dir
  dir="$(host_dir "$h")"
  cat >"${dir}/sshd_config" <<EOF
# sshd of testbed host ${h}; runs inside ${h}'s mount namespace
ListenAddress $(host_addr "$h"):${SSH_PORT}
HostKey ${TB}/hostkeys/${h}/ssh_host_ed25519_key
PidFile ${dir}/run/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers ${VM_USER}
AuthorizedKeysFile .ssh/authorized_keys
UseDNS no
PrintMotd no
X11Forwarding no
AcceptEnv LANG LC_*
MaxStartups 100:30:200
MaxSessions 100
ClientAliveInterval 0
LogLevel INFO
Subsystem sftp internal-sftp
EOF
  chmod 0600 "${dir}/sshd_config"
}

prepare_host() {
  local h="$1" i dir uuid
  i="$(host_index "$h")"
  dir="$(host_dir "$h")"
  rm -rf "$dir"
  mkdir -p "${dir}/run" "${dir}/images/templates"
  chmod 0755 "$dir" "${dir}/run"
  chown "${VM_USER}:${VM_USER}" "${dir}/images" "${dir}/images/templates"
  chmod 0775 "${dir}/images" "${dir}/images/templates"

  # /etc/libvirt: a copy of the system one without anything it defines (domains, networks' autostart,
  # storage pools, secrets), edited.
  cp -a /etc/libvirt "${dir}/etc"
  rm -f "${dir}/etc/qemu/"*.xml "${dir}/etc/qemu/autostart/"* "${dir}/etc/qemu/networks/autostart/"*
  rm -rf "${dir}/etc/storage" "${dir}/etc/secrets"
  uuid="$(cat /proc/sys/kernel/random/uuid)"
  local c="${dir}/etc/libvirtd.conf"
  conf_set "$c" unix_sock_group '"libvirt"'
  conf_set "$c" unix_sock_ro_perms '"0777"'
  conf_set "$c" unix_sock_rw_perms '"0770"'
  conf_set "$c" auth_unix_ro '"none"'
  conf_set "$c" auth_unix_rw '"none"'
  conf_set "$c" host_uuid "\"${uuid}\""
  conf_set "$c" max_clients 500
  conf_set "$c" max_anonymous_clients 100
  conf_set "$c" log_outputs '"3:file:/var/log/libvirt/libvirtd.log"'
  conf_set "${dir}/etc/virtlogd.conf" log_outputs '"3:file:/var/log/libvirt/virtlogd.log"'
  local q="${dir}/etc/qemu.conf"
  conf_set "$q" security_driver '"none"'
  conf_set "$q" cgroup_controllers '[ ]'
  conf_set "$q" namespaces '[ ]'
  conf_set "$q" migration_port_min $(( 49152 + i * 32 ))
  conf_set "$q" migration_port_max $(( 49152 + i * 32 + 31 ))
  conf_set "$q" remote_display_port_min $(( 5900 + i * 100 ))
  conf_set "$q" remote_display_port_max $(( 5999 + i * 100 ))
  # kvm-a 5700-5799, kvm-b 5800-5899; external 6200-6299 (libvirt takes nothing below 5700; its VNC is 6100-6199).
  local ws=$(( i < 2 ? 5700 + i * 100 : 6200 ))
  conf_set "$q" remote_websocket_port_min "$ws"
  conf_set "$q" remote_websocket_port_max $(( ws + 99 ))
  conf_set "$q" vnc_listen '"127.0.0.1"'
  conf_set "$q" spice_listen '"127.0.0.1"'

  copy_skeleton /var/lib/libvirt "${dir}/var-lib"
  # /var/cache/libvirt outlives the host: libvirtd's QEMU capabilities cache there saves seconds
  # at each start (libvirtd checks it against the QEMU binary and itself).
  [[ -d "${TB}/cache/${h}" ]] || copy_skeleton /var/cache/libvirt "${TB}/cache/${h}"
  copy_skeleton /var/log/libvirt "${dir}/var-log"
  mkdir -p "${dir}/var-log/qemu"

  write_sshd_config "$h"

  # What runs inside the new mount namespace: private libvirt directories, then the daemons.
  cat >"${dir}/ns-init.sh" <<EOF
set -euo pipefail
mount -t tmpfs -o mode=0755 tmpfs-${h} /run/libvirt
mount --bind '${dir}/etc' /etc/libvirt
mount --bind '${dir}/var-lib' /var/lib/libvirt
mount --bind '${dir}/var-log' /var/log/libvirt
mount --bind '${TB}/cache/${h}' /var/cache/libvirt
readlink /proc/self/ns/mnt >'${dir}/run/mntns'
cd /
virtlogd -d -p '${dir}/run/virtlogd.pid'
libvirtd -d -p '${dir}/run/libvirtd.pid'
/usr/sbin/sshd -f '${dir}/sshd_config' -E '${dir}/sshd.log'
EOF
}

start_host() {
  local h="$1" dir
  dir="$(host_dir "$h")"
  mkdir -p /run/libvirt /run/sshd
  chmod 0755 /run/sshd
  unshare --mount --propagation private -- bash "${dir}/ns-init.sh" </dev/null >"${dir}/ns-init.log" 2>&1 3>&- ||
    { cat "${dir}/ns-init.log" >&2; return 1; }
}

# Runs "$@" inside HOST's mount namespace.
in_host() {
  local h="$1" pid
  shift
  pid="$(ns_pid "$h")" || die "testbed host ${h} is not running (libvirt.sh start)"
  LIBVIRT_DEFAULT_URI=qemu:///system nsenter -t "$pid" -m -- "$@"
}

# A live process of HOST's namespace (libvirtd, else virtlogd, else sshd).
ns_pid() {
  local h="$1" dir f pid ns
  dir="$(host_dir "$h")"
  [[ -s "${dir}/run/mntns" ]] || return 1
  ns="$(cat "${dir}/run/mntns")"
  for f in libvirtd virtlogd sshd; do
    pid_alive "${dir}/run/${f}.pid" || continue
    pid="$(cat "${dir}/run/${f}.pid")"
    [[ "$(readlink "/proc/${pid}/ns/mnt" 2>/dev/null)" == "$ns" ]] || continue
    echo "$pid"
    return 0
  done
  return 1
}

wait_host() {
  local h="$1" started=$SECONDS dir
  dir="$(host_dir "$h")"
  until in_host "$h" virsh -c qemu:///system version >/dev/null 2>&1; do
    if ! pid_alive "${dir}/run/libvirtd.pid" || (( SECONDS - started > READY_TIMEOUT_S )); then
      tail -n 30 "${dir}/var-log/libvirtd.log" >&2 2>/dev/null || true
      die "libvirtd of ${h} did not start or did not answer within ${READY_TIMEOUT_S} s"
    fi
    sleep 0.2
  done
  until ssh_as_vmhost "$h" virsh -c qemu:///system version >/dev/null 2>&1; do
    if (( SECONDS - started > READY_TIMEOUT_S )); then
      ssh_as_vmhost "$h" virsh -c qemu:///system version >&2 || true
      tail -n 20 "${dir}/sshd.log" >&2 2>/dev/null || true
      die "ssh ${VM_USER}@$(host_addr "$h"):${SSH_PORT} did not work within ${READY_TIMEOUT_S} s"
    fi
    sleep 0.2
  done
}

ssh_as_vmhost() {
  local h="$1"
  shift
  ssh -q -F /dev/null -i "${TB}/keys/id_ed25519" -p "${SSH_PORT}" -o BatchMode=yes -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$(vm_home)/.ssh/known_hosts" \
    -o ConnectTimeout=10 "${VM_USER}@$(host_addr "$h")" "$@"
}

host_key_fingerprint() {
  ssh-keygen -lf "${TB}/hostkeys/$1/ssh_host_ed25519_key.pub" | awk '{print $2}'
}

json_str() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

write_json() {
  local h first=1 dir vsize boot_s
  vsize="$(qemu-img info --output=json "${GUEST_IMAGE}" | sed -n -E 's/^[[:space:]]*"virtual-size": ([0-9]+),?/\1/p' | head -n 1)"
  boot_s="$(cat "${GUEST_DIR}/boot-seconds")"
  {
    echo '{'
    echo '  "hosts": ['
    for h in "${HOSTS[@]}"; do
      dir="$(host_dir "$h")"
      (( first )) || echo '    ,'
      first=0
      cat <<EOF
    { "name": "${h}", "address": "$(host_addr "$h")", "sshPort": ${SSH_PORT}, "username": "${VM_USER}",
      "password": $(json_str "$PASSWORD"),
      "privateKeyPath": $(json_str "${TB}/keys/id_ed25519"),
      "hostKeySha256": $(json_str "$(host_key_fingerprint "$h")"),
      "storagePath": $(json_str "${dir}/images"),
      "sharedStoragePath": $(json_str "$(shared_dir)"),
      "templatesPath": $(json_str "${dir}/images/templates"),
      "domainType": "qemu",
      "migrationUri": $(json_str "$(migration_uri "$h")"),
      "migrationAddress": "127.0.0.1",
      "libvirtdPid": $(cat "${dir}/run/libvirtd.pid"),
      "virtlogdPid": $(cat "${dir}/run/virtlogd.pid"),
      "sshdPid": $(cat "${dir}/run/sshd.pid"),
      "libvirtdLog": $(json_str "${dir}/var-log/libvirtd.log"),
      "qemuLogDir": $(json_str "${dir}/var-log/qemu") }
EOF
    done
    echo '  ],'
    dir="$(host_dir "${EXTERNAL}")"
    cat <<EOF
  "external": { "name": "${EXTERNAL}", "address": "$(host_addr "${EXTERNAL}")", "sshPort": ${SSH_PORT}, "username": "${VM_USER}",
    "password": $(json_str "$PASSWORD"),
    "hostKeySha256": $(json_str "$(host_key_fingerprint "${EXTERNAL}")"),
    "storagePath": $(json_str "${dir}/images"),
    "domains": { "twoDisksTwoNics": "ext-two", "raw": "ext-raw", "vmdk": "ext-vmdk" },
    "macs": ["${EXTERNAL_MACS[0]}", "${EXTERNAL_MACS[1]}"] },
  "vmware": { "name": "${VMWARE}", "address": "$(host_addr "${VMWARE}")", "sshPort": ${SSH_PORT}, "username": "${VM_USER}",
    "password": $(json_str "$PASSWORD"),
    "hostKeySha256": $(json_str "$(host_key_fingerprint "${VMWARE}")"),
    "tempPath": $(json_str "${TB}/conversion"),
    "conversionEnv": { "LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg" },
    "guests": { "real": "${VMWARE_DS}/v2vtest/v2vtest.vmx", "multi": "${VMWARE_DS}/multi/multi.vmx", "running": "${VMWARE_DS}/running/running.vmx" },
    "macs": { "real": "00:50:56:aa:bb:cc", "multi": ["${VMWARE_MACS[0]}", "${VMWARE_MACS[1]}"] } },
EOF
    cat <<EOF
  "importImages": { "localHost": "kvm-a", "localPoolPath": $(json_str "$(host_dir kvm-a)/images"), "sharedPoolPath": $(json_str "$(shared_dir)"),
    "good": "import/good.qcow2", "overlay": "import/overlay.qcow2", "inUse": "import/in-use.qcow2", "holder": "${IMPORT_HOLDER}" },
EOF
  cat <<EOF
  "guest": { "image": $(json_str "${GUEST_IMAGE}"), "virtualSizeBytes": ${vsize}, "memoryMiB": ${GUEST_MEMORY_MIB},
             "powerOffFromInside": ["virsh", "-c", "qemu:///system", "send-key", "{domain}", "KEY_P"],
             "ignoreShutdown": ["virsh", "-c", "qemu:///system", "send-key", "{domain}", "KEY_I"],
             "readyCheck": [$(json_str "${TB}/bin/guest-ready"), "{domain}"],
             "readyLine": "vmledger-guest: ready",
             "bootSeconds": ${boot_s} },
  "exec": [$(json_str "${SCRIPT_PATH}"), "exec", "{host}", "--"]
}
EOF
  } >"${JSON}.tmp"
  chmod 0600 "${JSON}.tmp"
  mv "${JSON}.tmp" "${JSON}"
}

write_helpers() {
  mkdir -p "${TB}/bin"
  cat >"${TB}/bin/guest-ready" <<'EOF'
#!/bin/sh
# Exit 0 when the testbed guest running as domain $1 on this host (run it inside the host's
# namespace: libvirt.sh exec HOST -- guest-ready DOM) has signalled that it is ready: once its
# acpid listens, the guest writes to its boot disk every second, and QEMU counts those writes.
[ $# -eq 1 ] || { echo "usage: $0 DOMAIN" >&2; exit 2; }
virsh -c qemu:///system domstats --block "$1" 2>/dev/null | grep -Eq '^[[:space:]]*block\.[0-9]+\.wr\.reqs=[1-9]'
EOF
  chmod 0755 "${TB}/bin/guest-ready"
}

# ---------------------------------------------------------------------------------------------
# Stop

# PIDs of every process in mount namespace $1 (as `readlink /proc/PID/ns/mnt` prints it).
ns_members() {
  local ns="$1" p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "${p}/ns/mnt" 2>/dev/null)" == "$ns" ]] && proc_alive "${p#/proc/}" && echo "${p#/proc/}"
  done
  return 0
}

# PIDs of the testbed's daemons of host $1 found by their command line (our own pid/config
# files), for when the namespace id is unknown.
daemons_by_cmdline() {
  local dir="$1" p cmd
  for p in /proc/[0-9]*; do
    cmd="$(tr '\0' ' ' 2>/dev/null <"${p}/cmdline")" || continue
    case "$cmd" in
      "virtlogd -d -p ${dir}/run/virtlogd.pid"* | "libvirtd -d -p ${dir}/run/libvirtd.pid"* | \
      "/usr/sbin/sshd -f ${dir}/sshd_config "* | "sshd: /usr/sbin/sshd -f ${dir}/sshd_config "*) echo "${p#/proc/}" ;;
    esac
  done
  return 0
}

kill_pids() {
  local pids=("$@") p alive
  (( ${#pids[@]} )) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive=()
    for p in "${pids[@]}"; do proc_alive "$p" && alive+=("$p"); done
    (( ${#alive[@]} )) || return 0
    sleep 0.1
  done
  log "killing ${alive[*]} (did not end on SIGTERM)"
  kill -9 "${alive[@]}" 2>/dev/null || true
  sleep 0.2
}

stop_host() {
  local h="$1" dir own_ns dom p ns pids=() daemons=() namespaces=()
  dir="$(host_dir "$h")"
  own_ns="$(readlink /proc/self/ns/mnt)"
  # The host's namespace: recorded at its start, and the one its daemons run in (found by their
  # pid/config file paths on the command line, in case the recorded state is gone).
  [[ -s "${dir}/run/mntns" ]] && namespaces+=("$(cat "${dir}/run/mntns")")
  mapfile -t daemons < <(daemons_by_cmdline "$dir")
  for p in "${daemons[@]}"; do
    if ns="$(readlink "/proc/${p}/ns/mnt" 2>/dev/null)"; then namespaces+=("$ns"); fi
  done
  if (( ${#namespaces[@]} )); then
    mapfile -t namespaces < <(printf '%s\n' "${namespaces[@]}" | sort -u | grep -vxF "$own_ns")
  fi
  if ns_pid "$h" >/dev/null && pid_alive "${dir}/run/libvirtd.pid"; then
    while read -r dom; do
      [[ -n "$dom" ]] || continue
      in_host "$h" timeout 30 virsh -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
    done < <(in_host "$h" timeout 30 virsh -c qemu:///system list --name 2>/dev/null || true)
  fi
  # The daemons first (so none restarts anything), then whatever else is left in the namespace
  # (QEMU processes, ssh sessions).
  for f in sshd libvirtd virtlogd; do
    if pid_alive "${dir}/run/${f}.pid"; then kill_pids "$(cat "${dir}/run/${f}.pid")"; fi
  done
  kill_pids "${daemons[@]}"
  for ns in "${namespaces[@]}"; do
    [[ -n "$ns" && "$ns" != "$own_ns" ]] || continue
    for _ in 1 2 3; do
      mapfile -t pids < <(ns_members "$ns")
      (( ${#pids[@]} )) || break
      kill_pids "${pids[@]}"
    done
    mapfile -t pids < <(ns_members "$ns")
    (( ${#pids[@]} == 0 )) || die "processes of ${h}'s namespace still run: ${pids[*]}"
  done
  rm -rf "$dir"
}

stop() {
  local h
  for h in "${ALL_HOSTS[@]}"; do stop_host "$h"; done
  rm -rf "$(shared_dir)"
  rm -rf "${TB}/conversion"
  rm -f "${JSON}"
}

# The external host's stopped domains, for importing (issue 16 item 7), all from the cached guest
# image (no build; ~1 s): ext-two (vda: qcow2 copy of the guest, bootable; vdb: raw 32 MiB, 4 MiB of
# 0xab at 0 and sparse after; two user-mode NICs), ext-raw (one raw disk) and ext-vmdk (one vmdk).
# Files belong to vmhost in the host's storage directory; defined by root inside the host.
EXTERNAL_MACS=(52:54:00:e0:00:01 52:54:00:e0:00:02)
external_disk() { # $1 target, $2 format, $3 file
  printf "    <disk type='file' device='disk'><driver name='qemu' type='%s'/><source file='%s'/><target dev='%s' bus='virtio'/></disk>\n" "$2" "$3" "$1"
}
define_external_domains() {
  local st dom xml
  st="$(host_dir "${EXTERNAL}")/images"
  qemu-img convert -q -O qcow2 "${GUEST_IMAGE}" "${st}/ext-two-root.qcow2"
  qemu-img create -q -f raw "${st}/ext-two-data.raw" 32M
  qemu-io -f raw -c 'write -P 0xab 0 4M' "${st}/ext-two-data.raw" >/dev/null
  qemu-img convert -q -O raw "${GUEST_IMAGE}" "${st}/ext-raw-root.raw"
  qemu-img convert -q -O vmdk "${GUEST_IMAGE}" "${st}/ext-vmdk-root.vmdk"
  chown "${VM_USER}:${VM_USER}" "${st}"/ext-*
  for dom in ext-two ext-raw ext-vmdk; do
    xml="${st}/${dom}.xml"
    {
      echo "<domain type='qemu'><name>${dom}</name><memory unit='MiB'>${GUEST_MEMORY_MIB}</memory><vcpu>1</vcpu>"
      echo "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>"
      echo "  <devices>"
      case "$dom" in
        ext-two)
          external_disk vda qcow2 "${st}/ext-two-root.qcow2"
          external_disk vdb raw "${st}/ext-two-data.raw"
          echo "    <interface type='user'><mac address='${EXTERNAL_MACS[0]}'/><model type='virtio'/></interface>"
          echo "    <interface type='user'><mac address='${EXTERNAL_MACS[1]}'/><model type='virtio'/></interface>"
          ;;
        ext-raw) external_disk vda raw "${st}/ext-raw-root.raw" ;;
        ext-vmdk) external_disk vda vmdk "${st}/ext-vmdk-root.vmdk" ;;
      esac
      echo "  </devices></domain>"
    } >"$xml"
    in_host "${EXTERNAL}" virsh -q -c qemu:///system define "$xml" >/dev/null || die "defining ${dom} on ${EXTERNAL} failed"
  done
}

# Disk images to import in place (issue 16 items 4 and 7, importVm LOCAL/SHARED): kvm-a's storage
# directory doubles as its host-local pool, and TB/shared is an NFS-like directory both managed hosts
# mount (testbed.json puts it in each one's sharedStoragePath). In import/ of each: good.qcow2 (a
# standalone copy of the guest, bootable) and overlay.qcow2 (backing file base.qcow2); on kvm-a also
# in-use.qcow2, attached by the stopped domain import-holder defined there (~1 s, no build).
IMPORT_HOLDER=import-holder
shared_dir() { echo "${TB}/shared"; }
prepare_import_images() {
  local dir xml
  for dir in "$(host_dir kvm-a)/images/import" "$(shared_dir)/import"; do
    mkdir -p "$dir"
    qemu-img convert -q -O qcow2 "${GUEST_IMAGE}" "${dir}/good.qcow2"
    qemu-img convert -q -O qcow2 "${GUEST_IMAGE}" "${dir}/base.qcow2"
    qemu-img create -q -f qcow2 -F qcow2 -b "${dir}/base.qcow2" "${dir}/overlay.qcow2"
  done
  dir="$(host_dir kvm-a)/images/import"
  qemu-img convert -q -O qcow2 "${GUEST_IMAGE}" "${dir}/in-use.qcow2"
  chown -R "${VM_USER}:${VM_USER}" "$dir" "$(shared_dir)"
  xml="${dir}/${IMPORT_HOLDER}.xml"
  {
    echo "<domain type='qemu'><name>${IMPORT_HOLDER}</name><memory unit='MiB'>${GUEST_MEMORY_MIB}</memory><vcpu>1</vcpu>"
    echo "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>"
    echo "  <devices>"
    external_disk vda qcow2 "${dir}/in-use.qcow2"
    echo "  </devices></domain>"
  } >"$xml"
  in_host kvm-a virsh -q -c qemu:///system define "$xml" >/dev/null || die "defining ${IMPORT_HOLDER} on kvm-a failed"
  rm -f "$xml"
}

# ---------------------------------------------------------------------------------------------
# The VMware host (issue 17): an ESXi-style datastore tree that an agent reads over SSH, at
# 127.0.0.5:2222 (user vmhost, the same password and key). Its own mount namespace binds
# TB/vmware/vmfs onto /vmfs (an empty mount point made in the root namespace once), so the guests are
# at /vmfs/volumes/datastore1/<vm>/ as on ESXi:
#   v2vtest   the real guest (tests/testbed/vmware-guest.sh, cached): .vmx + descriptor + -flat.vmdk,
#             hard links to the cache (read-only to vmhost), so a start costs nothing
#   multi     blank disks scsi0:0 (64 MiB) and sata0:0 (32 MiB), NICs vmxnet3 + e1000e: for listing
#             and refusals (virt-v2v cannot inspect a blank disk)
#   running   one blank disk and a running.vmx.lck lock: listed PowerOn, refused by a conversion
# Conversions write to TB/conversion (vmhost's; removed by stop).
VMWARE_DS=/vmfs/volumes/datastore1
VMWARE_MACS=(00:50:56:01:00:01 00:50:56:01:00:02)
VMWARE_PACKAGES=("/usr/bin/virt-v2v:virt-v2v" "/usr/bin/nbdkit:nbdkit" "/usr/bin/nbdinfo:libnbd-bin" "/usr/sbin/debootstrap:debootstrap")

# virt-v2v and the guest build's tools, with the kernel's initramfs builds skipped (INITRD=No:
# supermin recommends a kernel, whose update-initramfs runs cost ~9 min here). ~30 s.
install_vmware_packages() {
  local missing=() entry
  for entry in "${VMWARE_PACKAGES[@]}"; do [[ -e "${entry%%:*}" ]] || missing+=("${entry#*:}"); done
  (( ${#missing[@]} == 0 )) && return 0
  log "installing ${missing[*]} (apt-get, INITRD=No)"
  local started=$SECONDS
  INITRD=No DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >"${TB}/apt-vmware.log" 2>&1 ||
    { tail -n 20 "${TB}/apt-vmware.log" >&2; die "apt-get install ${missing[*]} failed"; }
  log "installed ${missing[*]} in $(( SECONDS - started )) s"
}

build_vmware_guest() {
  install_vmware_packages
  VMWARE_GUEST_DIR="$(bash "$(dirname "${SCRIPT_PATH}")/vmware-guest.sh" build | tail -n 1)" || die "building the VMware guest failed"
}

# A blank guest: $1 name, $2 its disks as "bus:MiB ...", $3 its NICs as "model:mac ...".
write_blank_vmware_guest() {
  local name="$1" disks="$2" nics="$3" d n=0 bus size model mac entry file
  d="$(host_dir "${VMWARE}")/vmfs/volumes/datastore1/${name}"
  mkdir -p "$d"
  {
    printf '.encoding = "UTF-8"\nconfig.version = "8"\nvirtualHW.version = "14"\n'
    printf 'displayName = "%s"\nguestOS = "other3xlinux-64"\nmemSize = "256"\nnumvcpus = "1"\n' "$name"
    printf 'scsi0.present = "TRUE"\nscsi0.virtualDev = "pvscsi"\nsata0.present = "TRUE"\n'
  } >"${d}/${name}.vmx"
  for entry in $disks; do
    bus="${entry%%:*}" size="${entry#*:}"
    file="${name}$( (( n == 0 )) || echo "_${n}").vmdk"
    qemu-img create -q -f vmdk -o subformat=monolithicFlat "${d}/${file}" "${size}M"
    printf '%s0:0.present = "TRUE"\n%s0:0.fileName = "%s"\n' "$bus" "$bus" "$file" >>"${d}/${name}.vmx"
    [[ "$bus" == scsi ]] && printf 'scsi0:0.deviceType = "scsi-hardDisk"\n' >>"${d}/${name}.vmx"
    n=$(( n + 1 ))
  done
  n=0
  for entry in $nics; do
    model="${entry%%:*}" mac="${entry#*:}"
    printf 'ethernet%d.present = "TRUE"\nethernet%d.virtualDev = "%s"\nethernet%d.networkName = "VM Network"\nethernet%d.addressType = "static"\nethernet%d.address = "%s"\n' \
      "$n" "$n" "$model" "$n" "$n" "$n" "$mac" >>"${d}/${name}.vmx"
    n=$(( n + 1 ))
  done
}

prepare_vmware_host() {
  local dir ds f
  dir="$(host_dir "${VMWARE}")"
  rm -rf "$dir"
  ds="${dir}/vmfs/volumes/datastore1"
  mkdir -p "${dir}/run" "${ds}/v2vtest"
  chmod 0755 "$dir" "${dir}/run" "${dir}/vmfs" "${dir}/vmfs/volumes" "$ds"
  for f in v2vtest.vmx v2vtest.vmdk v2vtest-flat.vmdk; do
    ln "${VMWARE_GUEST_DIR}/${f}" "${ds}/v2vtest/${f}" 2>/dev/null || cp --sparse=always "${VMWARE_GUEST_DIR}/${f}" "${ds}/v2vtest/${f}"
  done
  write_blank_vmware_guest multi "scsi:64 sata:32" "vmxnet3:${VMWARE_MACS[0]} e1000e:${VMWARE_MACS[1]}"
  write_blank_vmware_guest running "scsi:16" "vmxnet3:00:50:56:01:00:03"
  mkdir -p "${ds}/running/running.vmx.lck"
  chmod -R a+rX "${dir}/vmfs"
  [[ -d /vmfs ]] || mkdir -m 0755 /vmfs
  mkdir -p "${TB}/conversion"
  chown "${VM_USER}:${VM_USER}" "${TB}/conversion"
  chmod 0775 "${TB}/conversion"
  write_sshd_config "${VMWARE}"
  cat >"${dir}/ns-init.sh" <<EOF
set -euo pipefail
mount --bind '${dir}/vmfs' /vmfs
readlink /proc/self/ns/mnt >'${dir}/run/mntns'
cd /
/usr/sbin/sshd -f '${dir}/sshd_config' -E '${dir}/sshd.log'
EOF
}

wait_vmware_host() {
  local started=$SECONDS
  until ssh_as_vmhost "${VMWARE}" test -f "${VMWARE_DS}/v2vtest/v2vtest.vmx" >/dev/null 2>&1; do
    if (( SECONDS - started > READY_TIMEOUT_S )); then
      tail -n 20 "$(host_dir "${VMWARE}")/sshd.log" >&2 2>/dev/null || true
      die "${VMWARE} did not answer over ssh within ${READY_TIMEOUT_S} s"
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# Start

testbed_present() {
  local h
  [[ -e "${JSON}" ]] && return 0
  for h in "${ALL_HOSTS[@]}"; do
    [[ -d "$(host_dir "$h")" ]] && return 0
    [[ -n "$(daemons_by_cmdline "$(host_dir "$h")")" ]] && return 0
  done
  return 1
}

start() {
  (( EUID == 0 )) || die "the libvirt testbed needs root"
  local started=$SECONDS h
  install_if_missing
  mkdir -p "${TB}"
  chmod 0755 "${BASE}" "${TB}"
  if testbed_present; then
    log "stopping a testbed left over from an earlier run"
    stop
  fi
  for h in "${ALL_HOSTS[@]}"; do
    if (exec 3<>"/dev/tcp/$(host_addr "$h")/${SSH_PORT}") 2>/dev/null; then
      die "$(host_addr "$h"):${SSH_PORT} is already in use by another process"
    fi
  done
  # libvirt-qemu must reach the storage directories.
  if ! setpriv --reuid=libvirt-qemu --regid=libvirt-qemu --init-groups test -x "${TB}" 2>/dev/null; then
    die "${TB} is not reachable for user libvirt-qemu (QEMU runs as it); set VMLEDGER_TESTBED_DIR or TMPDIR to a world-traversable place"
  fi
  build_guest
  build_vmware_guest
  for h in "${ALL_HOSTS[@]}"; do ensure_host_key "$h"; done
  ensure_user
  write_helpers
  # From here on a failure stops what was started.
  trap 'log "start failed; stopping what was started"; stop || true' EXIT
  for h in "${LIBVIRT_HOSTS[@]}"; do prepare_host "$h"; done
  prepare_vmware_host
  start_host kvm-a || die "starting kvm-a failed"
  # With no QEMU capabilities cached yet, kvm-a probes QEMU (~8 s) and kvm-b takes its cache
  # (probing on both at once takes twice as long on two cores).
  local caps=qemu/capabilities
  if [[ -z "$(ls -A "${TB}/cache/kvm-b/${caps}" 2>/dev/null)" ]]; then
    wait_host kvm-a
    if [[ -n "$(ls -A "${TB}/cache/kvm-a/${caps}" 2>/dev/null)" ]]; then
      mkdir -p "${TB}/cache/kvm-b/${caps}"
      cp -a "${TB}/cache/kvm-a/${caps}/." "${TB}/cache/kvm-b/${caps}/"
    fi
  fi
  start_host kvm-b || die "starting kvm-b failed"
  # external takes kvm-a's QEMU capabilities too (it only defines domains, but libvirtd probes at start).
  if [[ -z "$(ls -A "${TB}/cache/${EXTERNAL}/${caps}" 2>/dev/null)" && -n "$(ls -A "${TB}/cache/kvm-a/${caps}" 2>/dev/null)" ]]; then
    mkdir -p "${TB}/cache/${EXTERNAL}/${caps}"
    cp -a "${TB}/cache/kvm-a/${caps}/." "${TB}/cache/${EXTERNAL}/${caps}/"
  fi
  start_host "${EXTERNAL}" || die "starting ${EXTERNAL} failed"
  start_host "${VMWARE}" || die "starting ${VMWARE} failed"
  for h in "${LIBVIRT_HOSTS[@]}"; do wait_host "$h"; done
  wait_vmware_host
  define_external_domains
  prepare_import_images
  # Each host reaches the other as vmhost (what a live migration driven from the source needs).
  for h in "${HOSTS[@]}"; do
    ssh_as_vmhost "$h" virsh -c "'$(migration_uri "$(host_peer "$h")")'" hostname >/dev/null ||
      die "${VM_USER} on ${h} cannot reach $(host_peer "$h") with $(migration_uri "$(host_peer "$h")")"
  done
  write_json
  trap - EXIT
  log "kvm-a, kvm-b, ${EXTERNAL} and ${VMWARE} ready after $(( SECONDS - started )) s (files in ${TB})"
  echo "${JSON}" >&3
}

# ---------------------------------------------------------------------------------------------
# Self-test (on a started testbed; leaves it running and removes what it created)

now() { echo "${EPOCHREALTIME}"; }
since() { awk -v a="$1" -v b="${EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }
check() { log "selftest: $*"; }
fail() { log "selftest FAILED: $*"; exit 1; }

# virsh over ssh as vmhost, the way the driver under test reaches a host.
vvirsh() {
  local h="$1"
  shift
  ssh_as_vmhost "$h" virsh -q -c qemu:///system "$@"
}

domstate() { vvirsh "$1" domstate "$2" 2>/dev/null | head -n 1; }

wait_state() {
  local h="$1" dom="$2" want="$3" timeout="$4" t0=$SECONDS
  until [[ "$(domstate "$h" "$dom")" == "$want" ]]; do
    (( SECONDS - t0 > timeout )) && fail "${dom} on ${h} not '${want}' after ${timeout} s (is '$(domstate "$h" "$dom")')"
    sleep 0.1
  done
  return 0
}

# Runs one of testbed.json's guest argv lists ($1: powerOffFromInside | ignoreShutdown |
# readyCheck) for domain $3 inside host $2, as a test would.
guest_ctl() {
  local what="$1" h="$2" dom="$3" argv=()
  case "$what" in
    powerOffFromInside) argv=(virsh -c qemu:///system send-key "$dom" KEY_P) ;;
    ignoreShutdown) argv=(virsh -c qemu:///system send-key "$dom" KEY_I) ;;
    readyCheck) argv=("${TB}/bin/guest-ready" "$dom") ;;
  esac
  in_host "$h" "${argv[@]}" >/dev/null 2>&1
}

wait_ready() {
  local h="$1" dom="$2" t0=$SECONDS
  until guest_ctl readyCheck "$h" "$dom"; do
    (( SECONDS - t0 > 60 )) && fail "${dom} on ${h} did not get ready in 60 s"
    sleep 0.2
  done
  return 0
}

# Defines domain $2 on host $1 over ssh as vmhost: 128 MiB, TCG, root disk a qcow2 overlay of
# the template in the host's storage, one user-mode NIC with MAC $3, a serial pty.
define_domain() {
  local h="$1" dom="$2" mac="$3" st
  st="$(host_dir "$h")/images"
  ssh_as_vmhost "$h" "qemu-img create -q -f qcow2 -F qcow2 -b '${st}/templates/selftest.qcow2' '${st}/${dom}-root.qcow2' &&
    cat >'${st}/${dom}.xml'" <<XML
<domain type='qemu'>
  <name>${dom}</name>
  <memory unit='MiB'>${GUEST_MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${st}/${dom}-root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
XML
  vvirsh "$h" define "${st}/${dom}.xml" >/dev/null
  vvirsh "$h" domiflist "$dom" | grep -q "$mac" || fail "${dom}: NIC with MAC ${mac} missing"
}

selftest() {
  [[ -s "${JSON}" ]] || die "no testbed runs (libvirt.sh start)"
  local t0 h image pa pb
  local a=vmltb-selftest-a b=vmltb-selftest-b ev="${TB}/selftest-events.log" askpass="${TB}/selftest-askpass"
  SELFTEST_EVENTS_PID=""
  PASSWORD="$(sed -n -E 's/^[[:space:]]*"password": "([^"]*)",?$/\1/p' "${JSON}" | head -n 1)"
  image="$(sed -n -E 's/^[[:space:]]*"guest": \{ "image": "([^"]*)".*/\1/p' "${JSON}")"
  [[ -n "$PASSWORD" && -s "$image" ]] || die "cannot read password and guest image from ${JSON}"
  SELFTEST_DOMAINS=("$a" "$b")
  selftest_cleanup() {
    local h d
    if [[ -n "${SELFTEST_EVENTS_PID}" ]]; then kill "${SELFTEST_EVENTS_PID}" 2>/dev/null || true; fi
    for h in "${HOSTS[@]}"; do
      for d in "${SELFTEST_DOMAINS[@]}"; do
        in_host "$h" virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
        in_host "$h" virsh -c qemu:///system undefine "$d" >/dev/null 2>&1 || true
      done
      rm -f "$(host_dir "$h")/images/"vmltb-selftest-* "$(host_dir "$h")/images/templates/selftest.qcow2"
    done
    rm -f "${TB}/selftest-askpass" "${TB}/selftest-events.log"
  }
  trap selftest_cleanup EXIT

  printf '#!/bin/sh\necho %q\n' "$PASSWORD" >"$askpass"
  chmod 0700 "$askpass"
  for h in "${HOSTS[@]}"; do
    ssh_as_vmhost "$h" true || fail "key login to ${h}"
    SSH_ASKPASS="$askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none setsid -w ssh -q -F /dev/null -p "${SSH_PORT}" \
      -o PubkeyAuthentication=no -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 \
      -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$(vm_home)/.ssh/known_hosts" \
      "${VM_USER}@$(host_addr "$h")" virsh -c qemu:///system version </dev/null >/dev/null ||
      fail "password login to ${h}"
    [[ "$(ssh-keyscan -p "${SSH_PORT}" -t ed25519 "$(host_addr "$h")" 2>/dev/null | ssh-keygen -lf - | awk '{print $2}')" == \
       "$(host_key_fingerprint "$h")" ]] || fail "host key fingerprint of ${h}"
    install -m 0644 -o "${VM_USER}" -g "${VM_USER}" "$image" "$(host_dir "$h")/images/templates/selftest.qcow2"
  done
  check "key and password login, host key fingerprints: ok"

  # (--timeout: the remote virsh ends by itself; killing the local ssh does not end it)
  ssh_as_vmhost kvm-a virsh -c qemu:///system event --loop --all --timeout 300 >"$ev" 2>&1 &
  SELFTEST_EVENTS_PID=$!

  define_domain kvm-a "$a" 52:54:00:aa:00:01
  t0="$(now)"; vvirsh kvm-a start "$a" >/dev/null; wait_ready kvm-a "$a"
  check "start -> guest ready: $(since "$t0") s"
  t0="$(now)"; vvirsh kvm-a shutdown "$a" >/dev/null; wait_state kvm-a "$a" "shut off" 15
  check "virsh shutdown -> shut off: $(since "$t0") s"

  vvirsh kvm-a start "$a" >/dev/null; wait_ready kvm-a "$a"
  t0="$(now)"; guest_ctl powerOffFromInside kvm-a "$a"; wait_state kvm-a "$a" "shut off" 15
  check "powerOffFromInside (send-key KEY_P) -> shut off: $(since "$t0") s"

  vvirsh kvm-a start "$a" >/dev/null; wait_ready kvm-a "$a"
  guest_ctl ignoreShutdown kvm-a "$a"
  sleep 0.5
  vvirsh kvm-a shutdown "$a" >/dev/null
  sleep 5
  [[ "$(domstate kvm-a "$a")" == running ]] || fail "${a} did not ignore virsh shutdown after ignoreShutdown"
  vvirsh kvm-a destroy "$a" >/dev/null
  check "ignoreShutdown (send-key KEY_I): still running 5 s after virsh shutdown: ok"

  # Two live migrations at once, in opposite directions (each destination has its own ports).
  define_domain kvm-b "$b" 52:54:00:bb:00:01
  vvirsh kvm-a start "$a" >/dev/null
  vvirsh kvm-b start "$b" >/dev/null
  wait_ready kvm-a "$a"
  wait_ready kvm-b "$b"
  t0="$(now)"
  vvirsh kvm-a migrate --live --persistent --undefinesource --unsafe "$a" "'$(migration_uri kvm-b)'" \
    --migrateuri tcp://127.0.0.1 --listen-address 127.0.0.1 &
  pa=$!
  vvirsh kvm-b migrate --live --persistent --undefinesource --unsafe "$b" "'$(migration_uri kvm-a)'" \
    --migrateuri tcp://127.0.0.1 --listen-address 127.0.0.1 &
  pb=$!
  wait "$pa" || fail "migration of ${a} kvm-a -> kvm-b"
  wait "$pb" || fail "migration of ${b} kvm-b -> kvm-a"
  check "two concurrent live migrations kvm-a <-> kvm-b: $(since "$t0") s"
  [[ "$(domstate kvm-b "$a")" == running && -z "$(domstate kvm-a "$a")" ]] || fail "${a} is not on kvm-b only"
  [[ "$(domstate kvm-a "$b")" == running && -z "$(domstate kvm-b "$b")" ]] || fail "${b} is not on kvm-a only"
  t0="$(now)"; wait_ready kvm-b "$a"
  check "migrated guest ready on kvm-b after: $(since "$t0") s"
  t0="$(now)"; vvirsh kvm-b shutdown "$a" >/dev/null; wait_state kvm-b "$a" "shut off" 15
  check "virsh shutdown of the migrated guest on kvm-b -> shut off: $(since "$t0") s"
  vvirsh kvm-a destroy "$b" >/dev/null

  sleep 0.5
  kill "${SELFTEST_EVENTS_PID}" 2>/dev/null || true
  wait "${SELFTEST_EVENTS_PID}" 2>/dev/null || true
  SELFTEST_EVENTS_PID=""
  if ! grep -q "event 'lifecycle' for domain '${a}': Started" "$ev" ||
     ! grep -q "event 'lifecycle' for domain '${a}': Stopped" "$ev"; then
    cat "$ev" >&2
    fail "virsh event --loop --all over ssh showed no lifecycle events"
  fi
  check "virsh event --loop --all over ssh: $(grep -c "event 'lifecycle'" "$ev") lifecycle events"
  check "all passed"
}

command="${1:-}"
# start, stop and selftest of one testbed directory run one at a time: the script runs itself
# again under flock, which holds the lock (not passed on to the daemons) until that run ends.
case "$command" in
  start | stop | selftest | build-guest)
    if [[ "${VMLEDGER_LIBVIRT_TESTBED_LOCKED:-}" != "${TB}" ]]; then
      mkdir -p "${TB}"
      exec env VMLEDGER_LIBVIRT_TESTBED_LOCKED="${TB}" flock -o -w 900 "${TB}/.lock" bash "${SCRIPT_PATH}" "$@"
    fi
    ;;
esac
case "$command" in
  start)
    # Only the JSON path goes to stdout; everything else, ours or the tools', to stderr.
    exec 3>&1 1>&2
    start
    ;;
  stop) stop ;;
  exec)
    [[ $# -ge 4 && "$3" == "--" ]] || die "usage: $0 exec HOST -- CMD ARGS..."
    host="$2"
    host_index "$host" >/dev/null
    shift 3
    in_host "$host" "$@"
    ;;
  selftest) selftest ;;
  build-guest) # internal: build (or find) the guest image and print its path
    install_if_missing
    mkdir -p "${TB}"
    build_guest
    echo "${GUEST_IMAGE}"
    ;;
  *) die "usage: $0 start | stop | exec HOST -- CMD ARGS..." ;;
esac
