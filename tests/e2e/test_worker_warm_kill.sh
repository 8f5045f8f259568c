#!/usr/bin/env bash
# End-to-end: a warm worker killed with SIGKILL leaves no process of its
# sandboxes behind (docs/worker.md "Stopping"): its zygotes, their inits and
# the child of the job in flight all die with it, at once, and the job is
# run again by the next worker and ends ok (nothing is lost).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
export WHISKERS_NORMALISERS=$N WHISKERS_DB=sqlite://$T/w.db
OOI='Hostname|internet|example.org'
HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
# A second line is a wall-clock time the input's child sleeps until: the
# first worker is killed while it sleeps, so its zygote is waiting for the
# child and does not read the EOF of its control socket either (only the
# parent-death signal can end them), and the next worker's run is short.
make_norm hostnames '"text/plain"' "    import time
    lines = raw.decode().split()
    if len(lines) > 1:
        time.sleep(max(0, int(lines[1]) - time.time()))
    yield $(printf "$HOST" 'lines[0]')"
printf 'quick.example.org\n' >"$T/quick.txt"
printf 'slow.example.org\n%d\n' $(($(date +%s) + 12)) >"$T/slow.txt"

# Every process below pid $1 (not $1 itself).
descendants() {
        local kids k
        kids=$(ps -o pid= --ppid "$1" 2>/dev/null) || return 0
        for k in $kids; do
                echo "$k"
                descendants "$k"
        done
}
# The pids of $@ that still exist and are not zombies.
alive() {
        local p s
        for p in "$@"; do
                s=$(ps -o stat= -p "$p" 2>/dev/null) || continue
                [[ $s == Z* ]] || echo "$p"
        done
}

wq submit --tenant acme --normaliser hostnames --input-ooi "$OOI" "$T/quick.txt"
wq submit --tenant beta --normaliser hostnames --input-ooi "$OOI" --json "$T/slow.txt"
slow=$(jqo '.[0].job')
"$WHISKERS" worker --concurrency 1 --lease-ms 1500 2>"$T/killed.log" &
wpid=$!
started $wpid
assert_true "the quick job ends and the slow one runs on the first worker" \
        wait_for '.done == 1 and .running == 1'
# Two warm sandboxes (acme's idle, beta's running the slow input): each an
# init and a zygote, beta's with the input's child.
for _ in $(seq 50); do
        procs=$(descendants $wpid)
        [ "$(echo "$procs" | wc -w)" -ge 5 ] && break
        sleep 0.1
done
assert_true "the worker runs two inits, two zygotes and a child ($(echo $procs))" \
        test "$(echo "$procs" | wc -w)" -ge 5
kill -9 $wpid
wait $wpid 2>/dev/null
left=
for _ in $(seq 20); do
        # shellcheck disable=SC2086
        left=$(alive $procs)
        [ -z "$left" ] && break
        sleep 0.1
done
assert_empty "no process of the killed worker's sandboxes is left within 2 s" \
        "$(for p in $left; do ps -o pid=,stat=,args= -p "$p"; done)"

timeout -k 5 90 "$WHISKERS" worker --lease-ms 1500 --exit-when-idle 2>"$T/next.log"
wq show --json "$slow"
assert_eq "the job in flight ends ok on the next worker, warm, with one lost lease" \
        "done ok warm 1" \
        "$(jqo '"\(.state) \(.result.outcome) \(.provenance.status.mode) \(.lost_leases)"')"
assert_eq "its output names the input's hostname" slow.example.org \
        "$(jqo '.output.observations[0].results[0].name')"
finish
