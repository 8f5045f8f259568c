# shellcheck shell=bash
# bench/warm/worker_lib.sh: what the worker benchmarks (worker.sh,
# pool-memory.sh) share. Source it after setting $T (the run's mktemp -d)
# and $repo.
#
#   trivial_normaliser   the trivial Python normaliser "trivial" (a Hostname of
#                        its input's line) in $T/normalisers, exported as
#                        WHISKERS_NORMALISERS; $T/in made for the inputs
#   report TABLE APPEND  print TABLE; append it to bench/RESULTS.md if APPEND is 1

trivial_normaliser() {
	local n=$T/normalisers/trivial
	chmod 755 "$T" # the sandbox's uid reads the normaliser
	mkdir -p "$n/schemas" "$T/in"
	cat >"$n/normalizer.json" <<'J'
{"id": "trivial", "name": "trivial", "version": "1.0.0", "consumes": ["text/plain"],
 "produces": ["Hostname"], "external_types": ["Network"], "runtime": "python3",
 "entrypoint": "normalize.py"}
J
	printf 'def run(input_ooi, raw):\n    yield {"object_type": "Hostname", "network": "Network|internet", "name": raw.decode().strip()}\n' >"$n/normalize.py"
	cat >"$n/schemas/Hostname.json" <<'J'
{"type": "object", "x-natural-key": ["network", "name"],
 "properties": {"object_type": {"const": "Hostname"}, "network": {"type": "string", "x-reference": ["Network"]},
                "name": {"type": "string"}}, "required": ["object_type", "network", "name"]}
J
	export WHISKERS_NORMALISERS=$T/normalisers
}

report() {
	cat "$1"
	if [ "$2" = 1 ]; then cat "$1" >>"$repo/bench/RESULTS.md"; fi
}
