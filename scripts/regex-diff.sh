#!/usr/bin/env bash
# The regex differential test: N generated (pattern, subject) pairs, seeded
# with the JSON-Schema-Test-Suite's regex cases, judged by node's RegExp (u
# flag) and by whiskers' engine; fails on any disagreement.
#
#   scripts/regex-diff.sh [PAIRS] [SEED]      (default 20000 pairs, seed 1)
#
# Environment: RXDIFF (the rxdiff binary, default build/tests/rxdiff),
# WH_SHARED_DIR (default ../shared). Exit 77 (skipped) without node, unless
# CI=true, where a missing node or suite is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-20000}
seed=${2:-1}
rxdiff=${RXDIFF:-build/tests/rxdiff}
suite=${WH_SHARED_DIR:-../shared}/data/json-schema-test-suite
ci=false
[ "${CI:-}" = true ] && ci=true

if ! command -v node >/dev/null; then
  echo "regex-diff: node is not installed: the regex differential test was NOT run" \
       "(scripts/install-deps.sh installs Debian's nodejs)" >&2
  $ci && exit 1
  exit 77
fi
suite_arg=$suite
if [ ! -d "$suite/tests/draft2020-12" ]; then
  echo "regex-diff: $suite is missing: the suite's regex cases were NOT used as seeds" >&2
  $ci && exit 1
  suite_arg=
fi
node tests/regex-diff/gen.js "$pairs" "$seed" $suite_arg | "$rxdiff"
