#!/usr/bin/env bash
# whiskers exec bind destinations (issue 8, items 1 and 2): a destination is
# resolved inside the sandbox's root, so a symlink an earlier run planted in a
# writable bind can neither make setup create or mount anything on the host
# nor make a bind silently go missing; a long destination is mounted where it
# says or refused, never cut short.
. "$(dirname "$0")/lib.sh"
host_snapshot start
tag=wh-e2e-$$-$RANDOM
mkdir -p "$T/h" "$T/d"
printf hello >"$T/d/file"
chmod -R a+rwX "$T/h"
# What the old code created on the host: removed whatever this test finds.
on_exit "rm -rf /var/tmp/$tag /var/tmp/$tag-f /tmp/$tag"

# A first run with a writable bind plants symlinks that point out of it.
for link in "evil:/var/tmp" "evil-rel:../../../../../../var/tmp" "evil-ro:/usr/share" \
        "evil-tmp:/tmp" "evil-file:/var/tmp/$tag-f"; do
        wh_run --bind "$T/h:/work" -- /probe symlink "${link#*:}" "/work/${link%%:*}"
        expect "a run plants /work/${link%%:*} -> ${link#*:}" rc=0 status=ok out=OK
done

wh_run --bind "$T/h:/work" --ro-bind "$T/d:/work/evil/$tag" -- /probe read "/work/evil/$tag/file"
expect "a destination through a symlink to the host's /var/tmp: sandbox_error at stage mount" \
        rc=5 status=sandbox_error stage=mount "message~/work/evil/$tag" out=
assert_true "host /var/tmp/$tag was not created" test ! -e "/var/tmp/$tag"

wh_run --bind "$T/h:/work" --ro-bind "$T/d:/work/evil-rel/$tag" -- /probe true
expect "a relative symlink climbing out of the root: sandbox_error at stage mount" \
        rc=5 status=sandbox_error stage=mount out=
assert_true "host /var/tmp/$tag was not created (relative symlink)" test ! -e "/var/tmp/$tag"

wh_run --bind "$T/h:/work" --ro-bind "$T/d/file:/work/evil-file" -- /probe true
expect "a file destination that is a dangling symlink to the host: sandbox_error" \
        rc=5 status=sandbox_error stage=mount out=
assert_true "host /var/tmp/$tag-f was not created" test ! -e "/var/tmp/$tag-f"

wh_run --bind "$T/h:/work" --ro-bind "$T/d:/work/evil-ro/$tag" -- /probe true
expect "a symlink into a read-only part of the root: sandbox_error at stage mount" \
        rc=5 status=sandbox_error stage=mount out=
assert_true "host /usr/share/$tag was not created" test ! -e "/usr/share/$tag"

# A symlink that stays inside the root is followed as the program sees it:
# the bind is there, at the path the program uses.
wh_run --bind "$T/h:/work" --ro-bind "$T/d:/work/evil-tmp/$tag" -- \
        /probe read "/work/evil-tmp/$tag/file"
expect "a symlink to the sandbox's /tmp: the bind is mounted there and readable" \
        rc=0 status=ok "out=OK 5"
assert_true "host /tmp/$tag was not created" test ! -e "/tmp/$tag"
assert_eq "the writable bind holds only the planted links" \
        "evil evil-file evil-rel evil-ro evil-tmp" "$(ls "$T/h" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//")"

# ---- long destinations ---------------------------------------------------------------
long=/$(printf 'a%.0s' {1..200})/$(printf 'b%.0s' {1..200})/$(printf 'c%.0s' {1..200})
wh_run --ro-bind "$T/d:$long" -- /probe read "$long/file"
expect "a 603-byte destination is mounted at its full path" rc=0 status=ok "out=OK 5"
wh_run --ro-bind "$T/d:$long" -- /probe read "${long:0:511}/file"
expect "nothing is mounted at the destination cut to 511 bytes" rc=1 "out=ERR ENOENT"

huge=$(for _ in $(seq 21); do printf '/%s' "$(printf 'x%.0s' {1..200})"; done)
wh_run --ro-bind "$T/d:$huge" -- /probe true
expect "a ${#huge}-byte destination is refused before anything runs" rc=2 \
        "err~bind destination of ${#huge} bytes: at most 4095" out=
host_unchanged "host state unchanged" start
finish
