# Shared helpers for the shell test suites (tests/e2e, tests/interop).
# Source it; every script is its own process and ends with `finish`.
#   PKICTL   the pkictl binary under test (meson sets it)
# Each check prints "ok - what" or "not ok - what"; finish prints
# "N passed, N failed" and exits non-zero if anything failed. The failures are
# listed again just before that line, so a log cut to its last lines still names them.
set -u
PKICTL=${PKICTL:?PKICTL must name the pkictl binary under test}
T_PASS=0
T_FAIL=0
T_FAILS=""
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pkictl-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
export PKICTL_SKIP_KEY_PERMISSION_CHECK=
unset PKICTL_CA_KEY PKICTL_CERTS_DIR PKICTL_NOW

ok()     { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
not_ok() {
    T_FAIL=$((T_FAIL + 1))
    echo "not ok - $1"
    T_FAILS+="not ok - $1"$'\n'
    if [ $# -gt 1 ]; then
        printf '    %s\n' "$2"
        T_FAILS+="    $(printf '%s' "$2" | head -c 600)"$'\n'
    fi
    return 0
}

# check "what it proves" cmd args...: passes when cmd exits 0.
check() {
    local what=$1; shift
    if "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; then ok "$what"
    else not_ok "$what" "exit $?: $(head -c 400 "$T_TMP/.err")"; fi
}

# pk_ok "what" args...: pkictl args must exit 0. Output in $T_TMP/.out/.err.
pk_ok() {
    local what=$1; shift
    if "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; then ok "$what"
    else not_ok "$what" "exit $?: $(head -c 400 "$T_TMP/.err")"; fi
}

# pk_fails "what" CODE args...: pkictl must exit with CODE ("any" = any non-zero),
# print exactly one line on stderr, and that line must start with "pkictl: ".
pk_fails() {
    local what=$1 want=$2; shift 2
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
    local rc=$?
    if [ "$rc" -eq 0 ]; then not_ok "$what" "succeeded but should have failed"; return; fi
    if [ "$want" != any ] && [ "$rc" -ne "$want" ]; then
        not_ok "$what" "exit $rc, want $want: $(head -c 400 "$T_TMP/.err")"; return
    fi
    if [ "$(wc -l <"$T_TMP/.err")" -ne 1 ] || ! grep -q '^pkictl: ' "$T_TMP/.err"; then
        not_ok "$what" "stderr is not one 'pkictl: ' line: $(head -c 400 "$T_TMP/.err")"; return
    fi
    ok "$what"
}

# err_has "what" REGEX: the last command's stderr matches REGEX (grep -E -i).
err_has() {
    if grep -Eqi -- "$2" "$T_TMP/.err"; then ok "$1"
    else not_ok "$1" "stderr lacks /$2/: $(head -c 400 "$T_TMP/.err")"; fi
}
# out_has "what" REGEX: the last command's stdout matches REGEX (grep -E).
out_has() {
    if grep -Eq -- "$2" "$T_TMP/.out"; then ok "$1"
    else not_ok "$1" "stdout lacks /$2/: $(head -c 400 "$T_TMP/.out")"; fi
}

# snapshot DIR: a listing of names, modes and checksums, to prove "nothing changed".
snapshot() {
    (cd "$1" 2>/dev/null && find . -printf '%p %m\n' | sort && find . -type f -print0 | sort -z | xargs -0r sha256sum)
}

# mode_of FILE: octal permission bits, e.g. 600.
mode_of() { stat -c '%a' "$1"; }

finish() {
    [ "$T_FAIL" -eq 0 ] || printf 'failures again (of %d):\n%s' "$T_FAIL" "$T_FAILS"
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
}
