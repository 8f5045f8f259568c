#!/usr/bin/env bash
# whiskers exec --stdin - (issue 8, item 5): the caller's terminal is never
# handed to the program, which could change it (window size, echo); anything
# but a regular file reaches the program through a pipe the supervisor fills,
# byte for byte, with EOF at its end.
. "$(dirname "$0")/lib.sh"

# run_on_pty INPUT PROBE-ARGS...: whiskers exec --stdin - with a new pty as
# stdin, INPUT typed into it first; prints the probe's stdout, then the pty's
# window size and whether its termios changed.
run_on_pty() {
        local input=$1
        shift
        "$PYTHON" - "$WHISKERS" "$PROBE" "$T/status.json" "$input" "$@" <<'PY'
import fcntl, os, pty, struct, subprocess, sys, termios
whiskers, probe, status, typed = sys.argv[1:5]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
before = termios.tcgetattr(slave)
os.write(master, typed.encode().decode("unicode_escape").encode())
p = subprocess.run([whiskers, "exec", "--stdin", "-", "--status-file", status,
                    "--ro-bind", probe + ":/probe", "--", "/probe"] + sys.argv[5:],
                   stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
rows, cols = struct.unpack("HHHH", fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\0" * 8))[:2]
print(p.stdout.decode().strip())
print("winsize %dx%d" % (rows, cols))
print("termios " + ("unchanged" if termios.tcgetattr(slave) == before else "changed"))
PY
}

if ! "$PYTHON" -c 'import os, pty; os.close(pty.openpty()[0])' 2>/dev/null; then
        skip "a terminal as stdin" "this host cannot open a pty (python3 pty.openpty)"
else
        got=$(run_on_pty '\x04' tty)
        assert_eq "on a terminal, the program's stdin is not a terminal" "ERR ENOTTY" \
                "$(sed -n 1p <<<"$got")"
        assert_eq "the caller's terminal keeps its window size" "winsize 24x80" \
                "$(sed -n 2p <<<"$got")"
        assert_eq "the caller's terminal keeps its settings (echo)" "termios unchanged" \
                "$(sed -n 3p <<<"$got")"
        got=$(run_on_pty 'hello\n\x04' stdin)
        assert_eq "what is typed on the terminal reaches the program, then EOF" "OK 6" \
                "$(sed -n 1p <<<"$got")"
fi

head -c 3000000 /dev/urandom >"$T/big"
LAST="cat big | whiskers exec --stdin - -- /probe cat -"
cat "$T/big" | timeout -k 5 60 "$WHISKERS" exec --status-file "$T/status.json" \
        --ro-bind "$PROBE:/probe" --stdin - -- /probe cat - >"$T/out" 2>"$T/err"
RC=$?
expect "3 MB piped through --stdin -: ok" rc=0 status=ok stdout_bytes=3000000
assert_true "the program got every byte, in order" cmp -s "$T/big" "$T/out"

LAST="cat big | whiskers exec --stdin - -- /probe true"
cat "$T/big" | timeout -k 5 60 "$WHISKERS" exec --status-file "$T/status.json" \
        --ro-bind "$PROBE:/probe" --stdin - -- /probe true >"$T/out" 2>"$T/err"
RC=$?
expect "a program that never reads its piped stdin: ok, nothing hangs" rc=0 status=ok out=OK
finish
