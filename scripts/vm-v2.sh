#!/usr/bin/env bash
# Runs one command in a small VM with a pure cgroup v2 hierarchy, for testing
# the sandbox's v2 paths on a host that has v1 or a hybrid layout. Exits with
# the command's status.
#
#   scripts/vm-v2.sh [OPTIONS] [--] COMMAND [ARG...]
#     --timeout S   stop the VM after S seconds (default 600); exit 124
#     --memory MB   the VM's memory (default 2048)
#     --cpus N      its CPUs (default: this host's)
#     --accel A     kvm, tcg or auto (default: kvm when /dev/kvm works)
#     --share DIR   DIR is writable in the VM at the same path (repeatable);
#                   everything else is the host's root, read-only under a
#                   tmpfs overlay: writes elsewhere vanish with the VM
#     --cgroup P    run the command in cgroup P (e.g. /system.slice/x.service),
#                   its ancestors' controllers enabled as systemd's Delegate=yes
#                   would; default: the root cgroup
#     --env NAME    pass the variable NAME (repeatable; CI and WH_* always are)
#
# The VM boots Debian bookworm's own kernel (linux-image-amd64, extracted into
# $WH_VM_CACHE, default /var/cache/whiskers-vm) with a busybox initramfs
# (scripts/vm-v2-init), under qemu with KVM, or TCG where KVM does not work.
# The command runs as root in the working directory it was started from, its
# output on this script's stdout. Exit: the command's status, 124 when the VM
# timed out, 125 when the VM could not run it. Needs root for apt-get when
# qemu-system-x86, busybox-static or the kernel is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
init="$top/scripts/vm-v2-init"

fail() {
  echo "vm-v2: $*" >&2
  exit 125
}

timeout=600 memory=2048 cpus=$(nproc) accel=auto cgroup=/
shares=() envs=()
while (($#)); do
  case "$1" in
  --timeout) timeout=$2 ;;
  --memory) memory=$2 ;;
  --cpus) cpus=$2 ;;
  --accel) accel=$2 ;;
  --share) shares+=("$(realpath -e "$2")") || fail "--share $2: no such directory" ;;
  --cgroup) cgroup=$2 ;;
  --env) envs+=("$2") ;;
  --) shift && break ;;
  -*) fail "unknown option $1 (see the comment at the top of $0)" ;;
  *) break ;;
  esac
  shift 2
done
(($#)) || fail "no command given: scripts/vm-v2.sh [OPTIONS] -- COMMAND [ARG...]"
case "$cgroup" in /*) ;; *) fail "--cgroup $cgroup: give an absolute cgroup path such as /system.slice/x.service" ;; esac

# qemu, and busybox-static for the initramfs (Debian's other busybox is linked dynamically);
# install-deps.sh fetches only what is missing.
"$top/scripts/install-deps.sh" qemu-system-x86 busybox-static ||
  fail "cannot install qemu-system-x86 and busybox-static (run as root, or install them)"

# The kernel: the package linux-image-amd64 points to, extracted once.
cache=${WH_VM_CACHE:-/var/cache/whiskers-vm}
kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -1; }
pkg=$(kpkg)
if [ -z "$pkg" ]; then
  apt-get update -qq || fail "apt-get update failed: cannot find Debian's kernel package"
  pkg=$(kpkg)
  [ -n "$pkg" ] || fail "apt-cache knows no linux-image-amd64: is Debian's archive in the apt sources?"
fi
kdir=$cache/$pkg
if [ ! -e "$kdir/ready" ]; then
  echo "vm-v2: fetching and extracting $pkg into $kdir" >&2
  mkdir -p "$cache" || fail "cannot create $cache (set WH_VM_CACHE to a writable directory)"
  rm -rf "$kdir.partial"
  mkdir "$kdir.partial"
  (cd "$kdir.partial" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
    fail "downloading $pkg failed (is Debian's archive reachable?)"
  dpkg-deb -x "$kdir.partial/$pkg"_*.deb "$kdir.partial" && rm "$kdir.partial/$pkg"_*.deb ||
    fail "cannot extract $pkg"
  kv=$(basename "$kdir.partial"/lib/modules/*)
  busybox depmod -b "$kdir.partial" "$kv" || fail "depmod failed for $kv"
  mv "$kdir.partial" "$kdir" && touch "$kdir/ready"
fi
kernel=$(echo "$kdir"/boot/vmlinuz-*)
kv=$(basename "$kdir"/lib/modules/*)
[ -f "$kernel" ] || fail "no kernel in $kdir/boot (remove $kdir to fetch it again)"

# KVM if it works here (the cpuinfo flags may not say): /dev/kvm opens, a VM can be created, and
# it is the hardware kind: kvm_pvm (a nested "pagetable VM") runs only PVM-aware guest kernels,
# and Debian's hangs in its decompressor there.
kvm_why() {
  python3 -c 'import fcntl, os
fd = os.open("/dev/kvm", os.O_RDWR)
assert fcntl.ioctl(fd, 0xAE00) == 12  # KVM_GET_API_VERSION
os.close(fcntl.ioctl(fd, 0xAE01, 0))  # KVM_CREATE_VM' 2>/dev/null ||
    { echo "/dev/kvm does not work here (no KVM, or no access to it)"; return; }
  [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ] ||
    echo "/dev/kvm is $(ls -d /sys/module/kvm_* 2>/dev/null | sed 's,.*/,,' | tr '\n' ' ')not kvm_intel or kvm_amd (kvm_pvm runs only PVM-aware guest kernels)"
}
case "$accel" in
auto)
  why=$(kvm_why)
  accel=kvm
  if [ -n "$why" ]; then
    accel=tcg
    echo "vm-v2: $why: TCG (emulation, much slower)" >&2
  fi
  ;;
kvm)
  why=$(kvm_why)
  [ -z "$why" ] || fail "--accel kvm: $why"
  ;;
tcg) ;;
*) fail "--accel $accel: give kvm, tcg or auto" ;;
esac
cpu=max
[ "$accel" = kvm ] && cpu=host

# Not in /tmp, where the e2e tests look for what a run left behind.
ctl=$(mktemp -d "$cache/run.XXXXXX") || fail "cannot create a directory in $cache"
qemu_pid=
cleanup() {
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  case "$ctl" in "$cache"/run.??????) rm -rf "$ctl" ;; esac
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The initramfs: busybox, the modules init loads, modules.dep.
ird=$ctl/initramfs
mkdir -p "$ird"/{bin,proc,sys,dev,lib/modules/"$kv"}
cp /bin/busybox "$ird/bin/busybox"
cp "$init" "$ird/init"
cp "$kdir/lib/modules/$kv"/modules.{dep,alias,symbols} "$ird/lib/modules/$kv/" 2>/dev/null || true
# modules.dep lists each module's dependencies, all of them, on its line.
for ko in $(awk -F'[: ]+' '$1 ~ /\/(virtio_pci|9pnet_virtio|9p|overlay)\.ko$/ {
    for (i = 1; i <= NF; i++) print $i }' "$kdir/lib/modules/$kv/modules.dep"); do
  mkdir -p "$ird/lib/modules/$kv/$(dirname "$ko")" && cp "$kdir/lib/modules/$kv/$ko" "$ird/lib/modules/$kv/$ko"
done
(cd "$ird" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$ctl/initrd") ||
  fail "cannot build the initramfs"

# The control share: which shares to mount where, and the command to run.
n=0
virtfs=(-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none"
  -virtfs "local,path=$kdir/lib/modules/$kv,mount_tag=modules,security_model=none,readonly=on")
: >"$ctl/shares"
for dir in "${shares[@]}"; do
  echo "share$n $dir" >>"$ctl/shares"
  virtfs+=(-virtfs "local,path=$dir,mount_tag=share$n,security_model=none,multidevs=remap")
  n=$((n + 1))
done
{
  echo '#!/bin/bash'
  echo "# the command vm-v2.sh runs in the VM; pid 1 after init's switch_root"
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb'
  for name in "${envs[@]}" $(compgen -v | grep -E '^(CI|WH_.*)$' || true); do
    [ -n "${!name+x}" ] && echo "export $name=$(printf %q "${!name}")"
  done
  echo "echo \"vm-v2: $accel, kernel \$(uname -r), booted in \$(cut -d' ' -f1 /proc/uptime) s (guest uptime)\" >&2"
  echo "cg=$(printf %q "$cgroup")"
  cat <<'EOF'
if [ "$cg" != / ]; then
  # Make the controllers available down to $cg, as systemd does for a unit with Delegate=yes.
  d=/sys/fs/cgroup
  for part in $(echo "${cg#/}" | tr / ' '); do
    mkdir -p "$d/$part" && echo "+cpu +io +memory +pids" >"$d/cgroup.subtree_control"
    d=$d/$part
  done
  echo $$ >"$d/cgroup.procs" || echo "vm-v2: cannot move the command into $cg" >&2
fi
: >/run/vm/started
EOF
  echo "cd $(printf %q "$PWD") || exit 125"
  printf '%q ' "$@"
  echo '</dev/null'
  echo 'echo $? >/run/vm/status'
  echo 'exec /bin/busybox poweroff -f'
} >"$ctl/run"

echo "vm-v2: booting $pkg ($kv) with $accel, $cpus CPUs, $memory MB; timeout $timeout s" >&2
start=$(date +%s.%N)
timeout -k 5 "$timeout" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "$cpus" -m "$memory" \
  -nodefaults -no-reboot -display none -monitor none -serial stdio \
  -kernel "$kernel" -initrd "$ctl/initrd" \
  -append "console=ttyS0 quiet loglevel=2 panic=-1 cgroup_no_v1=all" "${virtfs[@]}" </dev/null &
qemu_pid=$!
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
end=$(date +%s.%N)
if [ -e "$ctl/started" ]; then
  awk -v s="$start" -v c="$(stat -c %.9Y "$ctl/started")" -v e="$end" 'BEGIN {
    printf "vm-v2: the command started %.1f s after qemu; the VM ran %.1f s in all\n", c - s, e - s }' >&2
fi
if [ "$rc" = 124 ]; then
  echo "vm-v2: the VM did not finish within $timeout s (--timeout): stopped" >&2
  exit 124
fi
[ -s "$ctl/status" ] || fail "the VM ended (qemu status $rc) without the command's status: see the console output above"
exit "$(cat "$ctl/status")"
