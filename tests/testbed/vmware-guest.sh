#!/usr/bin/env bash
# Builds the small real Linux guest that virt-v2v can inspect and convert (issue 17 item 4), in
# ESXi's datastore layout: a VMDK descriptor plus its -flat extent and a .vmx beside them, as
# ../shared/reference/kvm-agent-notes.md §3.3 found to work here (a blank disk fails inspection).
#
#   vmware-guest.sh build     build the guest unless the cache has it; print its directory last
#   vmware-guest.sh path      print the cached guest's directory (exit 1 when it is not built)
#
# Cache: ${VMLEDGER_TESTBED_CACHE:-/var/cache/vmledger-testbed}/vmware-guest/HASH/ holding
#   v2vtest.vmdk, v2vtest-flat.vmdk (1.1 GiB virtual, ~580 MiB allocated) and v2vtest.vmx,
# where HASH is the sha256 of this script without its comments: changing the recipe below builds a new guest; a missing
# or half-built one is rebuilt (a build is written under a temporary name and renamed when done).
#
# Recipe: debootstrap --variant=minbase bookworm with linux-image-amd64, grub-pc and ifupdown (from
# the machine's own apt source), trimmed; a hand-written grub.cfg; MODULES=list and COMPRESS=gzip in
# initramfs.conf so that the initrd rebuild virt-v2v runs inside its TCG appliance takes ~2 min
# instead of 12+; the kernel package's initramfs builds are skipped during debootstrap (INITRD=No)
# and one lite initrd is made afterwards. The disk image is made without loop devices (mke2fs -d,
# sfdisk, dd). No MBR boot code: virt-v2v does not need it.
#
# Times on this 2-core machine (shared): debootstrap ~6-10 min, image + vmdk ~30 s. Needs root.
set -euo pipefail

CACHE="${VMLEDGER_TESTBED_CACHE:-/var/cache/vmledger-testbed}"
SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
NAME=v2vtest
SUITE=bookworm
FS_MIB=1100

log() { echo "vmware guest: $*" >&2; }
die() { log "$*"; exit 1; }

# Comments do not change the guest, so they are not part of its key.
recipe_hash() { grep -v '^[[:space:]]*#' "${SCRIPT_PATH}" | sha256sum | cut -c1-16; }
guest_dir() { echo "${CACHE}/vmware-guest/$(recipe_hash)"; }

# The machine's Debian mirror (this machine reaches Debian's packages only).
debian_mirror() {
  local uri
  uri="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v security | head -n1 | awk '{ print ($1 == "deb") ? $2 : $2 }')"
  echo "${uri:-http://deb.debian.org/debian}"
}

write_vmx() {
  cat >"$1" <<EOF
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
displayName = "${NAME}"
guestOS = "debian10-64"
memSize = "512"
numvcpus = "1"
cpuid.coresPerSocket = "1"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsilogic"
scsi0:0.present = "TRUE"
scsi0:0.deviceType = "scsi-hardDisk"
scsi0:0.fileName = "${NAME}.vmdk"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:aa:bb:cc"
uuid.bios = "42 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8"
EOF
}

build() {
  local out work g k started=$SECONDS
  out="$(guest_dir)"
  if [[ -s "${out}/${NAME}-flat.vmdk" && -s "${out}/${NAME}.vmdk" && -s "${out}/${NAME}.vmx" ]]; then
    echo "${out}"
    return 0
  fi
  (( EUID == 0 )) || die "building the guest needs root (debootstrap)"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  command -v qemu-img >/dev/null || die "qemu-img is not installed (apt-get install qemu-utils)"
  mkdir -p "${CACHE}/vmware-guest"
  # One build at a time (a testbed start and a background build may race): the second waits, then
  # finds the first one's guest.
  exec 9>"${CACHE}/vmware-guest/.lock"
  flock 9
  if [[ -s "${out}/${NAME}-flat.vmdk" && -s "${out}/${NAME}.vmx" ]]; then echo "${out}"; return 0; fi
  work="$(mktemp -d "${CACHE}/vmware-guest/.build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" EXIT
  g="${work}/root"
  log "debootstrap ${SUITE} (minbase + kernel + grub-pc) from $(debian_mirror) into ${g}"
  INITRD=No DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase \
    --include=linux-image-amd64,grub-pc,ifupdown,initramfs-tools "${SUITE}" "${g}" "$(debian_mirror)" \
    >"${work}/debootstrap.log" 2>&1 || { tail -n 30 "${work}/debootstrap.log" >&2; die "debootstrap failed"; }
  log "debootstrap took $(( SECONDS - started )) s"
  k="$(ls "${g}"/boot/vmlinuz-* | sed 's#.*/vmlinuz-##' | sort -V | tail -n1)"
  [[ -n "$k" ]] || die "no kernel in the guest"
  rm -rf "${g}"/var/cache/apt/archives/*.deb "${g}"/var/lib/apt/lists/* "${g}"/usr/share/doc/* \
    "${g}"/usr/share/man/* "${g}"/usr/share/locale/*
  echo "${NAME}" >"${g}/etc/hostname"
  echo '/dev/sda1 / ext4 errors=remount-ro 0 1' >"${g}/etc/fstab"
  printf 'auto lo\niface lo inet loopback\nauto ens192\niface ens192 inet dhcp\n' >"${g}/etc/network/interfaces"
  mkdir -p "${g}/boot/grub"
  cat >"${g}/boot/grub/grub.cfg" <<EOG
set default=0
set timeout=1
menuentry 'Debian GNU/Linux' {
  insmod part_msdos
  insmod ext2
  set root='hd0,msdos1'
  linux /boot/vmlinuz-${k} root=/dev/sda1 ro console=ttyS0
  initrd /boot/initrd.img-${k}
}
EOG
  echo root:root | chroot "${g}" chpasswd
  sed -i 's/^MODULES=.*/MODULES=list/; s/^COMPRESS=.*/COMPRESS=gzip/' "${g}/etc/initramfs-tools/initramfs.conf"
  printf 'virtio_pci\nvirtio_blk\nvirtio_scsi\nvirtio_net\nsd_mod\next4\n' >>"${g}/etc/initramfs-tools/modules"
  # One lite initrd (debootstrap skipped the kernel's, INITRD=No); /proc only in a private mount
  # namespace, so nothing stays mounted if this dies.
  log "building the guest's initrd (MODULES=list, gzip)"
  unshare --mount --propagation private bash -c \
    "mount -t proc proc '${g}/proc' && chroot '${g}' update-initramfs -c -k '${k}'" >"${work}/initramfs.log" 2>&1 \
    || { tail -n 20 "${work}/initramfs.log" >&2; die "update-initramfs in the guest failed"; }
  [[ -s "${g}/boot/initrd.img-${k}" ]] || die "the guest has no initrd"
  log "making the disk image"
  mke2fs -q -t ext4 -d "${g}" -L root "${work}/fs.img" "${FS_MIB}M"
  truncate -s "$(( FS_MIB + 1 ))M" "${work}/disk.raw"
  echo 'start=2048, type=83, bootable' | sfdisk -q "${work}/disk.raw"
  dd if="${work}/fs.img" of="${work}/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
  rm -f "${work}/fs.img"
  mkdir "${work}/out"
  # ESXi's layout: a descriptor naming a -flat extent.
  qemu-img convert -f raw -O vmdk -o subformat=monolithicFlat "${work}/disk.raw" "${work}/out/${NAME}.vmdk"
  write_vmx "${work}/out/${NAME}.vmx"
  rm -rf "${out}"
  mv "${work}/out" "${out}"
  log "built in $(( SECONDS - started )) s: ${out}"
  echo "${out}"
}

case "${1:-}" in
  build) build ;;
  path)
    d="$(guest_dir)"
    [[ -s "${d}/${NAME}-flat.vmdk" ]] || exit 1
    echo "$d"
    ;;
  *) die "usage: $0 build|path" ;;
esac
