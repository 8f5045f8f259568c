#!/usr/bin/env bash
# whiskers exec bad input: each mistake exits with the documented code, says
# on stderr what is wrong (naming the culprit), runs nothing and leaves
# nothing behind (no status record for usage errors, no temp dirs, no cgroups).
. "$(dirname "$0")/lib.sh"
leftover_listing >"$T/leftovers.before"
mkdir -p "$T/rw"
chmod 777 "$T/rw"

# usage_error DESC STDERR_REGEX EXEC_ARGS...: exit 2, a message, nothing ran
# (the program would create $T/rw/ran) and no status file, not even an empty
# one: a caller must not find a half-written record.
usage_error() {
        local desc=$1 msg=$2
        shift 2
        rm -f "$T/status.json" "$T/rw/ran"
        LAST="whiskers exec $*"
        timeout -k 5 60 "$WHISKERS" exec "$@" >"$T/out" 2>"$T/err" </dev/null
        RC=$?
        expect "$desc: exit 2 with a message" rc=2 "err~$msg"
        if [ -e "$T/rw/ran" ]; then
                fail "$desc: the program ran"
        elif [ -e "$T/status.json" ]; then
                fail "$desc: a status file was left behind ($(stat -c %s "$T/status.json") bytes)"
        else
                pass "$desc: nothing ran, no status file left"
        fi
}
run_args=(--bind "$T/rw:/out" --ro-bind "$PROBE:/probe")
ran=(-- /probe write-path /out/ran)

usage_error "unknown option" "--bogus" --status-file "$T/status.json" --bogus "${run_args[@]}" "${ran[@]}"
usage_error "--status-file with --status-fd" "status-(file|fd)" \
        --status-file "$T/status.json" --status-fd 1 "${run_args[@]}" "${ran[@]}"
usage_error "no program" "(program|PROGRAM|--)" --status-file "$T/status.json" "${run_args[@]}"
usage_error "no program after --" "(program|PROGRAM)" --status-file "$T/status.json" \
        "${run_args[@]}" --
for opt in --memory --tmp-size --output-limit --fsize; do
        usage_error "$opt 12XB" "12XB" --status-file "$T/status.json" "$opt" 12XB \
                "${run_args[@]}" "${ran[@]}"
done
for opt in --wall-ms --cpu-ms --pids --nofile; do
        usage_error "$opt abc" "abc" --status-file "$T/status.json" "$opt" abc \
                "${run_args[@]}" "${ran[@]}"
done
usage_error "--wall-ms -5" "-5" --status-file "$T/status.json" --wall-ms -5 "${run_args[@]}" "${ran[@]}"
usage_error "--cpus abc" "abc" --status-file "$T/status.json" --cpus abc "${run_args[@]}" "${ran[@]}"
usage_error "--net bogus" "bogus" --status-file "$T/status.json" --net bogus "${run_args[@]}" "${ran[@]}"
usage_error "--cgroup-driver v3" "v3" --status-file "$T/status.json" --cgroup-driver v3 \
        "${run_args[@]}" "${ran[@]}"
usage_error "--setenv without =" "NOEQUALS" --status-file "$T/status.json" --setenv NOEQUALS \
        "${run_args[@]}" "${ran[@]}"
usage_error "--ro-bind without :DST" "$T/rw" --status-file "$T/status.json" --ro-bind "$T/rw" \
        "${run_args[@]}" "${ran[@]}"

echo '{"not": "a policy"' >"$T/bad.policy"
usage_error "malformed --seccomp-policy" "bad.policy" --status-file "$T/status.json" \
        --seccomp-policy "$T/bad.policy" "${run_args[@]}" "${ran[@]}"
usage_error "missing --seccomp-policy" "nope.policy" --status-file "$T/status.json" \
        --seccomp-policy "$T/nope.policy" "${run_args[@]}" "${ran[@]}"
usage_error "directory as --seccomp-policy" "$T/rw" --status-file "$T/status.json" \
        --seccomp-policy "$T/rw" "${run_args[@]}" "${ran[@]}"
if [ "$ROOT" = 0 ]; then
        echo 'read' >"$T/unreadable.policy"
        chmod 000 "$T/unreadable.policy"
        usage_error "unreadable --seccomp-policy" "unreadable.policy" --status-file "$T/status.json" \
                --seccomp-policy "$T/unreadable.policy" "${run_args[@]}" "${ran[@]}"
else
        skip "unreadable --seccomp-policy" "root reads any file; covered by the unprivileged run"
fi

: >"$T/notadir"
usage_error "--rootfs that is a file" "notadir" --status-file "$T/status.json" \
        --rootfs "$T/notadir" "${run_args[@]}" "${ran[@]}"
usage_error "--rootfs that does not exist" "nodir" --status-file "$T/status.json" \
        --rootfs "$T/nodir" "${run_args[@]}" "${ran[@]}"
usage_error "--stdin that does not exist" "nostdin" --status-file "$T/status.json" \
        --stdin "$T/nostdin" "${run_args[@]}" "${ran[@]}"
usage_error "unwritable --status-file" "nodir/status.json" \
        --status-file "$T/nodir/status.json" "${run_args[@]}" "${ran[@]}"
assert_true "unwritable --status-file: no status record anywhere" test ! -e "$T/nodir"

# Missing and non-executable programs: a status record, stage exec.
wh_run -- /nonexistent-program
expect "missing program: 127, sandbox_error at stage exec" rc=127 status=sandbox_error \
        stage=exec 'message~nonexistent-program'
echo 'not a program' >"$T/noexec"
chmod 644 "$T/noexec"
wh_run --ro-bind "$T/noexec:/noexec" -- /noexec
expect "non-executable program: 126, sandbox_error at stage exec" rc=126 \
        status=sandbox_error stage=exec 'message~noexec'

wh_run_raw exec --help
expect "--help: exit 0, describes the options" rc=0 "out~--rootfs" "out~--status-file"

assert_empty "nothing left behind (temp dirs, cgroups)" "$(leftovers_since leftovers.before)"
finish
