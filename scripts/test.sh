#!/usr/bin/env bash
# Runs every test of pkictl: installs dependencies, then
#   1. a normal build: unit (cmocka), e2e (the real binary), interop
#      (openssl, GnuTLS certtool, PostgreSQL mutual TLS)
#   2. the same suites built with AddressSanitizer + UndefinedBehaviorSanitizer
#   3. a release build (no test hooks): unit tests and the e2e/interop scripts that need none
#   4. the libFuzzer targets, each for FUZZ_SECONDS (default 20) on its corpus
# and prints "N passed, N failed" over all of them. Exit status 0 only if all pass.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh" || { echo "dependency install failed"; exit 1; }

status=0
logs=()

run_suite() { # NAME BUILD_DIR MESON_TEST_ARGS... (setup args come from SETUP)
  local name=$1 dir=$2; shift 2
  echo "=== $name"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${SETUP[@]}" >"$dir.setup.log" 2>&1 || {
      cat "$dir.setup.log"; echo "setup of $name failed"; status=1; return; }
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; echo "build of $name failed"; status=1; return
  fi
  meson test -C "$dir" --print-errorlogs "$@" || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

SETUP=(--buildtype=debugoptimized)
run_suite "tests" build-test --num-processes 2

SETUP=(--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
       "-Dc_args=-fno-sanitize-recover=all -fno-omit-frame-pointer")
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "tests under ASan+UBSan" build-asan --num-processes 2

# What gets deployed: -O3, NDEBUG and no test hooks (unit tests, the e2e and interop
# scripts that need no hook, and no_test_hooks: PKICTL_NOW and PKICTL_TEST_KILL_AT refused).
SETUP=(--buildtype=release)
run_suite "release build (no test hooks)" build-release --num-processes 2

SETUP=(-Dfuzz=true -Dtests=false)
CC=clang run_suite "fuzz targets (${FUZZ_SECONDS:-20}s each)" build-fuzz --suite fuzz

# One closing line over every suite, from meson's JSON logs.
python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line).get("result")
                if r == "OK" or r == "EXPECTEDFAIL": passed += 1
                elif r == "SKIP": skipped += 1
                else: failed += 1
    except FileNotFoundError:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ "$status" -eq 0 ] || echo "some suites failed"
exit "$status"
