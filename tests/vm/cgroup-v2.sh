#!/usr/bin/env bash
# The cgroup v2 stage: runs, in the pure cgroup v2 VM of scripts/vm-v2.sh, the
# e2e tests whose cgroup paths differ on v2 (docs/cgroups.md, "Testing on
# cgroup v2"). For hosts with v1 or a hybrid layout, where those tests run only
# their v1 paths; on a pure v2 host the release suite already runs them.
#
#   tests/vm/cgroup-v2.sh [--all] [BUILD_DIR]     (default: build)
#
# By default the tests that are quick under emulation (TCG: ~3 min at load 10
# on 2 cores); --all adds the long ones (test_exec_defaults, test_warm,
# test_warm_hostile: ~5 min more there). Under TCG test_warm_hostile's cold
# Python runs can pass their 2 s wall limit (timeout_wall, then its cold/warm
# comparisons fail): it passed in one of three runs here (KVM not measured).
#
# Skips (exit 77) when the VM cannot start here (no qemu and no root to
# install it), except under CI=true, where that fails. Exit: ctest's status
# in the VM, 124 when the VM timed out.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
all=0
[ "${1:-}" = --all ] && all=1 && shift
build=$(realpath -e "${1:-build}") || { echo "FAIL - no build directory ${1:-build}"; exit 1; }
[ -f "$build/CTestTestfile.cmake" ] || { echo "FAIL - $build is not a configured build (scripts/build.sh)"; exit 1; }

# test_cgroup_v2: limits, reports, removal, the no-internal-processes rule,
# delegation; the others: their cgroup parts (limits, the leaf's removal,
# per-input memory of warm sandboxes, the worker's sweep of stale leaves;
# with --all exec's defaults and the warm sandboxes' leftover sweep and OOM).
tests='test_cgroup_v2|test_exec_limits|test_exec_lifetime|test_warm_memory|test_worker_warm_sweep'
[ "$all" = 0 ] || tests+='|test_exec_defaults|test_warm|test_warm_hostile'

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  echo "cgroup v2 stage: this host is pure cgroup v2, where the release suite ran these tests: no VM needed"
  exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null && [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL - qemu-system-x86 is not installed and $(id -un) cannot install it (CI=true must run the cgroup v2 stage)"
    exit 1
  fi
  echo "SKIP: qemu-system-x86 is not installed (root installs it): cgroup v2 was NOT tested in a VM"
  exit 77
fi

start=$(date +%s)
rc=0
"$top/scripts/vm-v2.sh" --timeout 1200 -- \
  ctest --test-dir "$build" --output-on-failure -R "^e2e\.($tests)\$" || rc=$?
echo "cgroup v2 stage: $(($(date +%s) - start)) s, status $rc"
exit "$rc"
