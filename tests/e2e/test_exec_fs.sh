#!/usr/bin/env bash
# whiskers exec filesystem: the root is read-only and holds only what the
# contract lists; host secrets are not visible; binds are read-only
# recursively; writes land only in /tmp and writable binds.
. "$(dirname "$0")/lib.sh"
host_snapshot start
tag=wh-e2e-$$-$RANDOM

refused='^ERR (EROFS|EACCES|EPERM)$'
for dir in /usr /usr/bin / /etc /dev; do
        wh_run -- /probe write-path "$dir/$tag"
        expect "writing $dir is refused" rc=1 status=exit_nonzero "out~$refused"
        assert_true "host $dir/$tag not created" test ! -e "$dir/$tag"
done
wh_run -- /probe write-path "/proc/$tag"
expect "creating a file in /proc is refused" rc=1 status=exit_nonzero "out~^ERR (ENOENT|EROFS|EACCES|EPERM)$"
wh_run -- /probe write-path /tmp/x
expect "writing /tmp works" rc=0 out=OK

core=$(cat /proc/sys/kernel/core_pattern)
wh_run -- /probe write-path /proc/sys/kernel/core_pattern "$core"
expect "writing /proc/sys/kernel/core_pattern is refused" rc=1 "out~$refused"
wh_run -- /probe write-path /proc/sys/kernel/hostname whiskers
expect "/proc/sys is read-only (even the namespaced hostname)" rc=1 "out~$refused"
wh_run -- /probe write-path /proc/sysrq-trigger ""
expect "opening /proc/sysrq-trigger for writing is refused" rc=1 \
        "out~^ERR (ENOENT|EROFS|EACCES|EPERM)$"

hidden='^ERR (ENOENT|EACCES)$'
wh_run -- /probe read /etc/shadow
expect "/etc/shadow is not visible" rc=1 "out~$hidden"
wh_run -- /probe ls /root
expect "/root is not visible" rc=1 "out~$hidden"
wh_run -- /probe ls /sys
expect "/sys is not visible" "out~^(ERR (ENOENT|EACCES)|OK)$"
wh_run -- /probe read /proc/1/root/etc/shadow
expect "init's /proc/1/root does not lead to the host's files" rc=1 "out~$hidden"
if head -c1 /proc/1/environ 2>/dev/null | grep -q .; then
        wh_run -- /probe cat /proc/1/environ
        assert_true "host pid 1's environment is not what /proc/1/environ shows" \
                bash -c "! cmp -s /proc/1/environ '$T/out'"
else
        skip "host /proc/1/environ" "unreadable or empty for this user: nothing to compare"
fi

# Only what the contract lists is in /: nothing else of the host's root.
wh_run -- /probe ls /
allowed=" bin lib lib32 lib64 libx32 sbin usr etc proc dev tmp probe "
extra=""
for name in $(cut -c4- "$T/out"); do
        [[ $allowed == *" $name "* ]] || extra+=" $name"
done
expect "/ is listable" rc=0 "out~^OK .*usr"
assert_eq "/ holds nothing else of the host" "" "$extra"
wh_run -- /probe ls /proc/1/root/
expect "init's root shows the sandbox's root, or nothing" "out~^(ERR (EACCES|ENOENT)|OK .*)$"
extra=""
for name in $(cut -c4- "$T/out"); do
        [[ $allowed == *" $name "* || $name == ENOENT || $name == EACCES ]] || extra+=" $name"
done
assert_eq "init's /proc/1/root holds nothing of the host's root" "" "$extra"

wh_run -- /probe ls /etc
expect "/etc has the generated passwd and group" rc=0 "out~ group( |$)" "out~ passwd( |$)"
wh_run -- /probe cat /etc/passwd
expect "generated /etc/passwd starts with root" rc=0 "out~^root:"
assert_true "generated /etc/passwd is not the host's" bash -c "! cmp -s /etc/passwd '$T/out'"

# ---- binds -----------------------------------------------------------------------
mkdir -p "$T/ro/sub" "$T/rw"
echo data >"$T/ro/file"
chmod 777 "$T/rw"
wh_run --ro-bind "$T/ro:/data" -- /probe read /data/file
expect "--ro-bind: readable" rc=0 "out=OK 5"
wh_run --ro-bind "$T/ro:/data" -- /probe write-path /data/new
expect "--ro-bind: not writable" rc=1 "out~$refused"
assert_true "--ro-bind: host file not created" test ! -e "$T/ro/new"

wh_run --bind "$T/rw:/out" -- /probe write-path /out/new
expect "--bind: writable" rc=0 out=OK
assert_eq "--bind: file on the host, owned by the mapped host uid" \
        "$(expected_host_uid)" "$(stat -c %u "$T/rw/new" 2>&1)"

if [ "$ROOT" = 1 ]; then
        # A mount beneath a read-only bind must be read-only too (recursive).
        mount -t tmpfs -o size=1M wh-e2e "$T/ro/sub" && on_exit "umount -l '$T/ro/sub'"
        chmod 777 "$T/ro/sub"
        wh_run --ro-bind "$T/ro:/data" -- /probe write-path /data/sub/new
        expect "--ro-bind is recursive: a submount is not writable" rc=1 "out~$refused"
        assert_true "submount: host file not created" test ! -e "$T/ro/sub/new"
        wh_run --ro-bind "$T/ro:/data" -- /probe cat /proc/self/mountinfo
        assert_eq "--ro-bind is recursive: the submount is mounted ro" "ro" \
                "$(awk '$5 == "/data/sub" { split($6, o, ","); print o[1] }' "$T/out")"
        umount -l "$T/ro/sub"
else
        skip "recursive read-only bind" "mounting a submount on the host needs root"
fi

# Every mount is read-only except /tmp, --bind targets, /proc (whose
# writable files are guarded by the kernel's own checks) and the device
# nodes bound into /dev (a read-only mount would not stop writes to a device
# node anyway; docs/sandbox.md gives them read/write).
wh_run --bind "$T/rw:/out" -- /probe cat /proc/self/mountinfo
writable=$(awk '$5 != "/tmp" && $5 != "/out" && $5 !~ "^/proc(/|$)" &&
                $5 !~ "^/dev/(null|zero|full|random|urandom)$" {
        split($6, o, ","); if (o[1] != "ro") printf " %s", $5 }' "$T/out")
expect "mount table readable" rc=0 "out~ / "
assert_eq "every other mount is read-only" "" "$writable"

wh_run -- /probe chroot-escape
if [ "$(st status)" = seccomp_kill ]; then
        expect "chroot escape: killed at chroot" rc=4 syscall.name=chroot out=
else
        expect "chroot escape: refused" rc=1 "out~^ERR (EPERM|EACCES|EROFS)$"
fi

# ---- --rootfs ----------------------------------------------------------------------
mkdir -p "$T/rootfs/proc" "$T/rootfs/dev" "$T/rootfs/tmp"
: >"$T/rootfs/probe"
wh_run --rootfs "$T/rootfs" -- /probe ls /
expect "--rootfs DIR: / is exactly DIR" rc=0 "out=OK dev probe proc tmp"
wh_run --rootfs "$T/rootfs" -- /probe write-path /new
expect "--rootfs DIR is read-only" rc=1 "out~$refused"
assert_true "--rootfs: host file not created" test ! -e "$T/rootfs/new"

host_unchanged "host unchanged (hostname, core_pattern, /, /usr, /etc, clock)" start
finish
