#!/usr/bin/env bash
# Warm execution (docs/warm.md): every example fixture gives the same result
# warm as cold (but for the status record's mode and timings); exec
# normalisers that did not opt in run cold; the C example speaks the protocol.
. "$(dirname "$0")/lib.sh"

# Warm mode needs no cgroup (docs/warm.md "Without a cgroup"): where none is
# usable, both modes run without one.
OPTS=()
can_enforce_cgroups || OPTS=(--cgroup-driver none --allow-unenforced-limits)
EX=$T/examples
cp -r "$WH_SOURCE_DIR/examples/normalisers" "$EX"
for d in x509-cert hostname-list-c; do
        rm -f "$EX/$d/normalize"
        make -s -C "$EX/$d" >"$T/make.log" 2>&1 || fail "$d builds: $(head -c 400 "$T/make.log")" nodump
done

# What may differ between a cold and a warm run of one input.
NORM='del(.raw) | del(.status.wall_ms, .status.cpu_ms, .status.mem_peak_bytes, .status.mode, .status.warm)
      | del(.provenance.status.wall_ms, .provenance.status.cpu_ms, .provenance.status.mem_peak_bytes)
      | del(.provenance.status.mode, .provenance.status.warm, .provenance.timings)'

for d in nmap-xml http-headers jsonl-exposure hostname-list-c; do
        for f in "$EX/$d"/fixtures/*/; do
                name="$d/$(basename "$f")"
                wh_run_raw run --json "${OPTS[@]}" "$EX/$d" "$f/raw" --meta "$f/meta.json"
                jq -S "$NORM" "$T/out" >"$T/cold.json"
                cold_rc=$RC
                # Twice, so that the compared input is not the zygote's first.
                wh_run_raw run --json "${OPTS[@]}" "$EX/$d" "$f/raw" "$f/raw" --meta "$f/meta.json"
                expect "$name: warm run exits as the cold one" rc="$cold_rc"
                assert_eq "$name: the second input ran warm in the first's zygote, as input 2" \
                        "warm warm 2 true" \
                        "$(jq -r '"\(.[1].status.mode) \(.[1].provenance.status.mode) \(.[1].status.warm.ordinal) \(.[0].status.warm.zygote == .[1].status.warm.zygote)"' "$T/out")"
                assert_eq "$name: warm result and provenance equal the cold ones" \
                        "$(cat "$T/cold.json")" "$(jq -S ".[1] | $NORM" "$T/out")"
                assert_eq "$name: warm results are the fixture's expected.json" \
                        "$(jq -S . "$f/expected.json")" "$(jq -S '.[1].results' "$T/out")"
        done
done

for d in x509-cert dnssec; do
        f=$(ls -d "$EX/$d"/fixtures/*/ | head -1)
        wh_run_raw run --json "${OPTS[@]}" "$EX/$d" "$f/raw" "$f/raw" --meta "$f/meta.json"
        assert_eq "$d (exec, no \"warm\"): several inputs run cold" "cold cold" \
                "$(jq -r '[.[].status.mode] | join(" ")' "$T/out")"
        wh_run_raw run --warm "${OPTS[@]}" "$EX/$d" "$f/raw" --meta "$f/meta.json"
        expect "$d: --warm is refused with the reason" rc=2 'err~declare|"warm": "fork"'
done

f=$EX/hostname-list-c/fixtures/two-hosts
wh_run_raw run --color never "${OPTS[@]}" "$EX/hostname-list-c" "$f/raw" "$f/raw" "$f/raw" --meta "$f/meta.json"
expect "whiskers run with three inputs prints each one's result and time" rc=0 \
        "out~== .*two-hosts/raw: ok, warm \(zygote [0-9.]+, input 3\), [0-9.]+ ms"
finish
