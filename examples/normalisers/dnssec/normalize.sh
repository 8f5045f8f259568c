#!/bin/sh
# DNSSEC from `drill -D` output (ldnsutils), as a whiskers normaliser in POSIX
# shell and awk (docs/contract.md): the raw file is /input/raw, the meta
# document /input/meta.json; one JSON object per line goes to stdout.
#
# Tools are called by their /usr/bin paths: the sandbox has the host's /usr
# but not /etc/alternatives, so /usr/bin/awk (a link through it) is missing.
set -eu
field() {
        /usr/bin/sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" /input/meta.json | /usr/bin/head -n 1
}
observed=$(field ended_at | /usr/bin/tr -d -- '-:TZ')
input=$(field primary_key)
exec /usr/bin/mawk -v observed="$observed" -v input="$input" -f /normaliser/dnssec.awk /input/raw
