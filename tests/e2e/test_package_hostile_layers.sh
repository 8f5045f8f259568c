#!/usr/bin/env bash
# Hostile layers (issue 8, item 8): a package whose layer holds '..', an
# absolute name, an escaping symlink or hardlink, a device node, a setuid file
# or a duplicate entry, under the tag a good package already has. `store
# import`, `bundle import`, `pull` and `push` refuse it with the entry named,
# before anything becomes visible: the tag keeps pointing at the good package
# and no blob of the hostile one is published (locally or on the registry).
# `verify --trust` checks every blob of the closure, not only the signature.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
CRAFT=$(dirname "$0")/pkg_craft.py
mkdir -p "$T/pkg"
echo '{"id":"kat_host","version":"1.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"python3","entrypoint":"normalize.py"}' >"$T/pkg/normalizer.json"
echo 'def run(a, b): return []' >"$T/pkg/normalize.py"
"$W" pack "$T/pkg" --into "$T/good" >/dev/null
"$W" key gen --out "$T/k" >/dev/null 2>&1
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
"$W" sign --key "$T/k.key" "$T/good" >/dev/null
good=$(jq -r '.manifests[0].digest' "$T/good/index.json")

# The store every import goes into: it holds the good package, tagged.
cp -a "$T/good" "$T/dst"
state() { (cd "$T/dst" && find . -type f | sort && cat index.json && ls -A .whiskers/tmp); }
state >"$T/dst.before"
unchanged() { # DESC
        state >"$T/dst.after"
        assert_true "$1: store unchanged, tag still on the good package" \
                cmp -s "$T/dst.before" "$T/dst.after"
}

declare -A needle=(
        [dotdot]="'../escaped'.*absolute, or contains '..'"
        [absolute]="'/tmp/whiskers-hostile-abs'"
        [symlink]="'lib'.*symlink leads outside"
        [symlink-up]="'up'.*symlink leads outside"
        [hardlink]="'passwd'.*hardlink target is absolute"
        [device]="'null'.*device, fifo or socket"
        [setuid]="'su'.*setuid"
        [duplicate]="'normalize.py'.*duplicate entry"
)
for kind in dotdot absolute symlink symlink-up hardlink device setuid duplicate; do
        cp -a "$T/good" "$T/h-$kind"
        "$PYTHON" "$CRAFT" layer "$T/h-$kind" kat_host:1.0.0 "$kind" >"$T/h-$kind.digest"
        "$PYTHON" "$CRAFT" tar "$T/h-$kind" "$T/h-$kind.tar"
        wh_run_raw store import "$T/dst" "$T/h-$kind.tar"
        expect "store import refuses $kind" rc=1 "err~refused entry ${needle[$kind]}"
        unchanged "store import of $kind"
done
assert_true "nothing was written outside" [ ! -e /tmp/whiskers-hostile-abs ]

wh_run_raw bundle export "$T/h-symlink" kat_host:1.0.0 --out "$T/h.bundle"
wh_run_raw bundle import --allow-unsigned "$T/dst" "$T/h.bundle"
expect "bundle import refuses a hostile layer" rc=1 "err~refused entry ${needle[symlink]}"
unchanged "bundle import"
wh_run_raw bundle export "$T/h-device" kat_host:1.0.0 --out "$T/h.bundle"
wh_run_raw bundle import --allow-unsigned "$T/dst" "$T/h.bundle"
expect "bundle import refuses a device node" rc=1 "err~refused entry ${needle[device]}"
unchanged "bundle import of a device"

# verify --trust: the signature covers the digest; the content must hold.
cp -a "$T/good" "$T/damaged"
layer=$(jq -r '.layers[0].digest' "$T/good/blobs/sha256/${good#sha256:}")
blob=$T/damaged/blobs/sha256/${layer#sha256:}
chmod u+w "$blob" && printf '\xff' | dd of="$blob" bs=1 seek=20 conv=notrunc status=none
wh_run_raw verify --trust "$T/trust" "$T/damaged"
expect "verify: a damaged layer under a valid signature is not trusted" rc=1 \
        "out~NOT trusted.*does not match its digest $layer"
wh_run_raw verify --json --trust "$T/trust" "$T/damaged"
expect "verify --json says why" rc=1 'out~"trusted":false' 'out~"intact":false'
cp -a "$T/good" "$T/noconfig"
config=$(jq -r '.config.digest' "$T/good/blobs/sha256/${good#sha256:}")
rm -f "$T/noconfig/blobs/sha256/${config#sha256:}"
wh_run_raw verify --trust "$T/trust" "$T/noconfig"
expect "verify: a missing config is not trusted" rc=1 "out~NOT trusted.*$config.*missing"
wh_run_raw verify --trust "$T/trust" "$T/good"
expect "verify: the intact package is trusted" rc=0 'out~: trusted$'

if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
        skip "pull and push of hostile layers" "docker-registry or skopeo is not installed"
        finish
fi
on_exit "'$SRC/scripts/registry-stop.sh' '$T/reg'"
ADDR=$("$SRC/scripts/registry-start.sh" "$T/reg") || { fail "registry start" nodump; finish; }
# skopeo copies bytes without judging them: the registry now serves it.
skopeo --override-os linux copy -q --dest-tls-verify=false \
        "oci:$T/h-hardlink:kat_host:1.0.0" "docker://$ADDR/evil/host:1.0.0"
wh_run_raw pull "$T/dst" "$ADDR/evil/host:1.0.0"
expect "pull refuses a hostile layer" rc=1 "err~refused entry ${needle[hardlink]}"
unchanged "pull"
wh_run_raw pull "$T/fresh" "$ADDR/evil/host:1.0.0"
expect "pull into a new store refuses too" rc=1 "err~refused entry"
assert_true "and leaves no empty layout behind" [ ! -e "$T/fresh" ]

wh_run_raw push "$T/h-setuid" "$ADDR/evil/pushed:1.0.0"
expect "push refuses a hostile layer" rc=1 "err~refused entry ${needle[setuid]}" 'err~nothing was pushed'
hostile_layer=$(jq -r '.layers[0].digest' "$T/h-setuid/blobs/sha256/$(cut -d: -f2 "$T/h-setuid.digest")")
code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$ADDR/v2/evil/pushed/blobs/$hostile_layer")
assert_eq "the registry never got the hostile layer" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "http://$ADDR/v2/evil/pushed/manifests/1.0.0")
assert_eq "nor the tag" 404 "$code"
finish
