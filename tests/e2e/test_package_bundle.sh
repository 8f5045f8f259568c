#!/usr/bin/env bash
# Air-gap bundles: export (plain, zstd, split) and import verified offline,
# all or nothing: a truncated bundle, a missing part, a flipped byte, an
# unsigned or wrongly signed package each give a clear error and leave the
# store exactly as it was (nothing staged left behind). --relocate pushes
# into a registry (docker-registry on loopback) and records where.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
mk_pkg() { # DIR ID SIZE
        mkdir -p "$1/schemas"
        printf '{"id":"%s","version":"1.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"python3","entrypoint":"normalize.py"}\n' \
                "$2" >"$1/normalizer.json"
        echo "def run(a, b): return []  # $2" >"$1/normalize.py"
        echo '{"type":"object"}' >"$1/schemas/out.json"
        head -c "$3" /dev/urandom >"$1/data.bin"
}
mk_pkg "$T/p1" kat_bundle 300000
mk_pkg "$T/p2" kat_unsigned 1000
mk_pkg "$T/p3" kat_other 1000
"$W" pack "$T/p1" --into "$T/src" >/dev/null
"$W" pack "$T/p2" --into "$T/src" >/dev/null
"$W" key gen --out "$T/k" >/dev/null 2>&1
"$W" key gen --out "$T/stranger" >/dev/null 2>&1
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
"$W" sign --key "$T/k.key" "$T/src" kat_bundle >/dev/null
digest=$(jq -r '.manifests[0].digest' "$T/src/index.json")

# A store that already holds something: failed imports must not touch it.
"$W" pack "$T/p3" --into "$T/dst" >/dev/null
mkdir "$T/snap"
# Every name with its type, mode and link target, every file's digest
# (directories' sizes and times change with what passed through them).
snapshot() {
        (cd "$T/dst" && find . -printf '%y %m %p %l\n' | sort &&
                find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/snap/$1"
}
snapshot before
import_fails() { # DESC FILE ERROR-REGEX [options]
        local desc=$1 file=$2 re=$3
        shift 3
        wh_run_raw bundle import "$@" "$T/dst" "$file"
        expect "$desc" rc=1 "err~$re"
        snapshot after
        assert_true "$desc: store unchanged" cmp -s "$T/snap/before" "$T/snap/after"
}

wh_run_raw bundle export "$T/src" kat_bundle --out "$T/b.tar"
expect "export" rc=0
assert_eq "bundle starts with its checksum manifest" whiskers-bundle.json "$(tar -tf "$T/b.tar" | head -1)"
wh_run_raw bundle export "$T/src" kat_unsigned --out "$T/unsigned.tar"
"$W" sign --key "$T/stranger.key" "$T/src" kat_unsigned >/dev/null
wh_run_raw bundle export "$T/src" kat_unsigned --out "$T/stranger.tar"
head -c 200000 "$T/b.tar" >"$T/trunc.tar"
cp "$T/b.tar" "$T/flip.tar"
printf '\xff' | dd of="$T/flip.tar" bs=1 seek=150000 conv=notrunc status=none
# Refused after every blob was read and staged: the layer is gone from the
# tar and from the checksum manifest, so only the index's closure can tell.
"$PYTHON" - "$T/b.tar" "$T/holed.tar" <<'EOF'
import io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
members = src.getmembers()
gone = max((m for m in members if m.name.startswith("blobs/sha256/")), key=lambda m: m.size)
with tarfile.open(sys.argv[2], "w", format=src.format) as out:
    for m in members:
        data = src.extractfile(m).read() if m.isfile() else None
        if m == gone:
            continue
        if m.name == "whiskers-bundle.json":
            doc = json.loads(data)
            del doc["blobs"]["sha256:" + gone.name.rsplit("/", 1)[1]]
            data = json.dumps(doc).encode()
            m.size = len(data)
        out.addfile(m, io.BytesIO(data) if data is not None else None)
EOF
outside() { (cd "$T" && find . -path ./dst -prune -o -path ./snap -prune -o -print | grep -v -x -e ./out -e ./err | sort); }
outside >"$T/snap/outside"

import_fails "unsigned package refused" "$T/unsigned.tar" 'kat_unsigned.*not signed' --trust "$T/trust"
import_fails "untrusted key refused" "$T/stranger.tar" 'untrusted key' --trust "$T/trust"
import_fails "truncated bundle" "$T/trunc.tar" 'damaged or truncated|shorter' --trust "$T/trust"
import_fails "flipped byte in a blob" "$T/flip.tar" 'does not match' --trust "$T/trust"
import_fails "a layer missing from the bundle: refused once staged" "$T/holed.tar" \
        'is incomplete: .*missing' --allow-unsigned
import_fails "the bundle fuzz target's one-off report (tests/fuzz/regress/bundle)" \
        "$SRC/tests/fuzz/regress/bundle/index-json-gone-once" 'damaged|truncated|cannot read' \
        --allow-unsigned
assert_eq "failed imports wrote nothing outside the store" "$(cat "$T/snap/outside")" "$(outside)"
wh_run_raw bundle import "$T/dst" "$T/b.tar"
expect "import without --trust or --allow-unsigned is a usage error" rc=2

wh_run_raw bundle export --zstd --split 64K "$T/src" kat_bundle --out "$T/z"
expect "export zstd, split" rc=0
parts=$(ls "$T"/z.* | wc -l)
assert_true "several parts ($parts)" [ "$parts" -ge 3 ]
assert_eq "zstd frame" 28b52ffd "$(head -c4 "$T/z.000" | od -An -tx1 | tr -d ' \n')"
mv "$T/z.001" "$T/z.001.away"
import_fails "missing part" "$T/z" 'damaged or truncated|cannot' --trust "$T/trust"
mv "$T/z.001.away" "$T/z.001"

wh_run_raw bundle import --json --trust "$T/trust" "$T/dst" "$T/z"
expect "import of the split zstd bundle" rc=0 "out~\"digest\":\"$digest\"" 'out~kat_bundle:1.0.0'
wh_run_raw verify --trust "$T/trust" "$T/dst" kat_bundle
expect "imported package is trusted" rc=0
wh_run_raw store verify "$T/dst"
expect "store verifies after import" rc=0
assert_eq "no scratch left" "" "$(ls -A "$T/dst/.whiskers/tmp")"
wh_run_raw bundle import --trust "$T/trust" "$T/dst" "$T/b.tar"
expect "importing again is harmless" rc=0 "out~$digest"

"$W" bundle export --split 200K "$T/src" kat_bundle --out "$T/z" >/dev/null
assert_true "re-export with fewer parts removes stale ones" [ ! -e "$T/z.003" ]

if command -v docker-registry >/dev/null; then
        on_exit "'$SRC/scripts/registry-stop.sh' '$T/reg'"
        ADDR=$("$SRC/scripts/registry-start.sh" "$T/reg")
        wh_run_raw bundle import --trust "$T/trust" --relocate "$ADDR/mirror" "$T/reloc" "$T/b.tar"
        expect "import --relocate" rc=0
        assert_eq "relocation map" "$ADDR/mirror/kat_bundle:1.0.0@$digest" \
                "$(jq -r '.relocations["kat_bundle:1.0.0"].location' "$T/reloc/relocations.json")"
        wh_run_raw pull "$T/mirror" "$ADDR/mirror/kat_bundle:1.0.0"
        expect "relocated package pulls with the same digest" rc=0 "out~$digest"
        wh_run_raw verify --trust "$T/trust" "$T/mirror"
        expect "relocated package: signature still valid" rc=0
else
        skip "relocate" "docker-registry is not installed"
fi
finish
