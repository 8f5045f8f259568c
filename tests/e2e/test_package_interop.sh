#!/usr/bin/env bash
# Interop with tools whiskers did not write, against a real registry
# (docker-registry on loopback): skopeo copies our layout into the registry
# and back unchanged; skopeo inspect shows our annotations; skopeo copy to a
# directory gives a layer that plain tar unpacks to the normaliser's files;
# a package pushed by skopeo is pulled, verified and run by whiskers, and one
# pushed by whiskers is copied out by skopeo. (umoci unpack refuses our
# artifacts: it only unpacks images whose config is an OCI image config.)
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
for tool in docker-registry skopeo; do
        if ! command -v "$tool" >/dev/null; then
                skip "interop" "$tool is not installed (scripts/deps/registry.txt)"
                finish
        fi
done
on_exit "'$SRC/scripts/registry-stop.sh' '$T/reg'"
ADDR=$("$SRC/scripts/registry-start.sh" "$T/reg") || { fail "registry start" nodump; finish; }
SK=(skopeo --override-os linux)
TLS=(--src-tls-verify=false --dest-tls-verify=false)

pkg=$T/pkg
mkdir -p "$pkg/schemas"
echo '{"id":"kat_interop","version":"2.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"python3","entrypoint":"normalize.py","description":"interop test"}' >"$pkg/normalizer.json"
echo 'def run(a, b): return [{"object_type": "X", "primary_key": "X|interop"}]' >"$pkg/normalize.py"
echo '{"type":"object"}' >"$pkg/schemas/X.json"
"$W" pack "$pkg" --into "$T/a" >/dev/null
"$W" key gen --out "$T/k" >/dev/null 2>&1
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
"$W" sign --key "$T/k.key" "$T/a" >/dev/null
digest=$(jq -r '.manifests[0].digest' "$T/a/index.json")

# skopeo: our layout -> registry -> a new layout.
assert_true "skopeo copy oci: -> registry" \
        "${SK[@]}" copy -q "${TLS[@]}" "oci:$T/a:kat_interop:2.0.0" "docker://$ADDR/sk/interop:2.0.0"
assert_eq "registry keeps the manifest byte for byte" "$digest" \
        "sha256:$("${SK[@]}" inspect --tls-verify=false --raw "docker://$ADDR/sk/interop:2.0.0" | sha256sum | cut -d' ' -f1)"
ann=$("${SK[@]}" inspect --tls-verify=false --raw "docker://$ADDR/sk/interop:2.0.0" | jq -c .annotations)
assert_match "skopeo inspect shows our annotations" '"io.whiskers.normalizer.id":"kat_interop".*"io.whiskers.normalizer.runtime":"python3"' "$ann"
assert_true "skopeo copy registry -> oci:" \
        "${SK[@]}" copy -q "${TLS[@]}" "docker://$ADDR/sk/interop:2.0.0" "oci:$T/back:kat_interop:2.0.0"
assert_eq "round trip keeps the digest" "$digest" "$(jq -r '.manifests[0].digest' "$T/back/index.json")"
wh_run_raw inspect "$T/back"
expect "whiskers reads the layout skopeo wrote" rc=0 'out~kat_interop'

# The package skopeo pushed, pulled and checked by whiskers (skopeo does not
# carry referrers: sign the pulled copy's digest again to show it is the same).
wh_run_raw pull --json "$T/pulled" "$ADDR/sk/interop:2.0.0"
expect "whiskers pulls what skopeo pushed" rc=0 "out~$digest" 'out~"signatures":0'
wh_run_raw store verify "$T/pulled"
expect "pulled store verifies" rc=0
"$W" sign --key "$T/k.key" "$T/pulled" >/dev/null
wh_run_raw verify --trust "$T/trust" "$T/pulled"
expect "same digest: a signature made there verifies" rc=0
printf 'raw\n' >"$T/raw"
wh_run_raw run --json --store "$T/pulled" --trust "$T/trust" --cache "$T/cache" \
        --input-ooi 'X|internet|a' kat_interop "$T/raw"
expect "whiskers runs the package skopeo pushed" rc=0 \
        "out~\"digest\": \"$digest\"" 'out~"digest_kind": "oci-manifest"'
assert_eq "its object is in the results" 'X|interop' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/out")"

# What whiskers pushes, skopeo copies to a directory; tar unpacks the layer.
"$W" push "$T/a" "$ADDR/wh/interop" >/dev/null
assert_true "skopeo copy of a whiskers push -> dir:" \
        "${SK[@]}" copy -q "${TLS[@]}" "docker://$ADDR/wh/interop:2.0.0" "dir:$T/dir"
layer=$(jq -r '.layers[0].digest' "$T/dir/manifest.json")
mkdir "$T/rootfs"
assert_true "plain tar unpacks the layer" tar -xzf "$T/dir/${layer#sha256:}" -C "$T/rootfs"
assert_true "layer holds the entrypoint" cmp -s "$pkg/normalize.py" "$T/rootfs/normalize.py"
sigs=$("${SK[@]}" inspect --tls-verify=false --raw "docker://$ADDR/wh/interop:sha256-${digest#sha256:}" | jq -r '.manifests[0].artifactType')
assert_eq "signature listed under the referrers fallback tag" application/vnd.whiskers.signature.v1 "$sigs"
finish
