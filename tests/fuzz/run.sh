#!/bin/sh
# run.sh TARGET SEED_DIR ARTIFACT_DIR [libFuzzer args...]
#
# Runs a libFuzzer target for ${FUZZ_SECONDS:-20} seconds, starting from the
# seed corpus. New inputs go to a scratch directory (the first corpus dir
# libFuzzer is given), so the seeds in the source tree are never written.
# A crashing input is saved under ARTIFACT_DIR and the exit status is non-zero.
set -eu

target=$1 seeds=$2 artifacts=$3
shift 3
seconds=${FUZZ_SECONDS:-20}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pkictl-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"

rc=0
"$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$(basename "$target")-" \
    "$@" "$scratch" "$seeds" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "run.sh: $(basename "$target") failed (exit $rc); reproducer under $artifacts" >&2
    ls -l "$artifacts" >&2 || true
    # libFuzzer exits 77 on a crash, and 77 means "skipped" to meson: a crash
    # must be a failure.
    exit 1
fi
exit 0
