#!/usr/bin/env bash
# Copy-on-write study on OpenKAT's kat_dns (docs/warm.md "Copy-on-write"):
# bench/warm/cow.py in a `whiskers exec` sandbox on the OpenKAT runtime, the
# plugin and one case bound in, the shim loading it as a warm zygote does.
#
#   bench/warm/cow.sh KAT_RUNTIME [CASE] [N]
#
# KAT_RUNTIME: what scripts/kat-runtime.sh printed (build/kat-runtime).
# CASE: a case of ../shared/kat/cases (default dns_example_nl); N inputs per
# variant (default 100). Prints cow.py's JSON.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kat=$(cd "$1" && pwd)
corpus=${KAT_CORPUS:-$repo/../../shared/kat}
[ -d "$corpus/cases" ] || corpus=/work/shared/kat
case_dir=$corpus/cases/${2:-dns_example_nl}
n=${3:-100}
WHISKERS=${WHISKERS:-$repo/build/whiskers}
plugin=$(jq -r '.plugin_package | ltrimstr("boefjes.plugins.") | gsub("\\."; "/")' "$case_dir/case.json")
# The image has mount points /normaliser and /input only: the scripts go
# with the case into /input.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$case_dir/raw" "$case_dir/meta.json" "$repo/runtimes/python/shim.py" "$here/cow.py" "$tmp/"
"$WHISKERS" exec --rootfs "$kat/root" --memory 1G --wall-ms 600000 \
	--ro-bind "$corpus/plugins/$plugin:/normaliser" --ro-bind "$tmp:/input" \
	-- /usr/bin/python3 -I -S -B /input/cow.py /input/shim.py /normaliser normalize.py /input "$n"
