# shellcheck shell=bash disable=SC2034
# Helpers shared by the e2e scripts (on top of tests/lib.sh). Source it first:
#   . "$(dirname "$0")/common.sh"
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$E2E_DIR/../lib.sh"

umask 022
T_TMP=$(cd "$T_TMP" && pwd -P)          # canonical path, so it can be compared with output
export HOME="$T_TMP/home"               # never touch the user's real $HOME
mkdir -p "$HOME"
export LC_ALL=C

# A fixed "now" for tests that check exact dates: 2023-11-14T22:13:20Z.
NOW0=1700000000

# is_eq "what" ACTUAL EXPECTED
is_eq() {
    if [ "$2" == "$3" ]; then ok "$1"
    else not_ok "$1" "got [$2], want [$3]"; fi
}
# same "what" A B: A and B are equal and not empty
same() {
    if [ -n "$2" ] && [ "$2" == "$3" ]; then ok "$1"
    else not_ok "$1" "got [$2], want [$3] (non-empty)"; fi
}
# is_ne "what" A B: A and B differ (and A is not empty)
is_ne() {
    if [ -n "$2" ] && [ "$2" != "$3" ]; then ok "$1"
    else not_ok "$1" "both are [$2]"; fi
}
# has "what" TEXT REGEX (grep -E)
has() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"
    else not_ok "$1" "[$(printf '%s' "$2" | head -c 400)] lacks /$3/"; fi
}
# lacks "what" TEXT REGEX
lacks() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1" "[$(printf '%s' "$2" | head -c 400)] has /$3/"
    else ok "$1"; fi
}
# exists/absent "what" FILE
exists() { if [ -e "$2" ]; then ok "$1"; else not_ok "$1" "$2 does not exist"; fi; }
absent() { if [ -e "$2" ]; then not_ok "$1" "$2 exists"; else ok "$1"; fi; }
# mode_is "what" FILE MODE
mode_is() { is_eq "$1" "$(mode_of "$2" 2>/dev/null)" "$3"; }

# run pkictl quietly, for setup; returns its exit status.
pk() { "$PKICTL" "$@" >"$T_TMP/.pk.out" 2>"$T_TMP/.pk.err"; }

# certificate inspection
ctext()     { openssl x509 -in "$1" -noout -text 2>/dev/null; }
cext()      { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null; }
csubject()  { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'; }
cissuer()   { openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//'; }
cserial()   { openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//'; }
cpub()      { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
kpub()      { openssl pkey -in "$1" -pubout 2>/dev/null; }
kpub_der()  { openssl pkey -inform DER -in "$1" -pubout 2>/dev/null; }
hexid()     { grep -oE '([0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}' | head -n1 | tr a-f A-F; }
cski()      { cext "$1" subjectKeyIdentifier | hexid; }
caki()      { cext "$1" authorityKeyIdentifier | hexid; }
sigalg()    { ctext "$1" | sed -n 's/^ *Signature Algorithm: *//p' | head -n1; }
not_after() { local v; v=$(openssl x509 -in "$1" -noout -enddate 2>/dev/null | cut -d= -f2); [ -n "$v" ] && date -u -d "$v" +%s; }
not_before(){ local v; v=$(openssl x509 -in "$1" -noout -startdate 2>/dev/null | cut -d= -f2); [ -n "$v" ] && date -u -d "$v" +%s; }
ncerts()    { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }
# nth_cert FILE N: the Nth PEM certificate block (1-based) of FILE
nth_cert() {
    awk -v n="$2" '/-----BEGIN CERTIFICATE-----/{i++} i==n{print} i==n && /-----END CERTIFICATE-----/{exit}' "$1"
}
# san_list FILE: the SAN entries, one a line, as openssl prints them
san_list()  { cext "$1" subjectAltName | tail -n +2 | tr ',' '\n' | sed 's/^ *//; /^$/d'; }
# matches "what" CERT KEY: the key's public key is the certificate's
matches() {
    local a b; a=$(cpub "$2"); b=$(kpub "$3")
    if [ -n "$a" ] && [ "$a" == "$b" ]; then ok "$1"
    else not_ok "$1" "public keys differ (or unreadable)"; fi
}
# date helpers
ymd()       { date -u -d "@$1" +%Y-%m-%d; }
rfc3339()   { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# new_ca DIR KEY [extra args]: make a certs dir with an ECDSA CA (quiet; counts as a check)
new_ca() {
    local d=$1 k=$2; shift 2
    mkdir -p "$d" "$(dirname "$k")"
    if pk cert create-ca --certs-dir="$d" --ca-key="$k" --key-type=ecdsa "$@"; then ok "setup: CA in $(basename "$d")"
    else not_ok "setup: CA in $(basename "$d")" "$(head -c 400 "$T_TMP/.pk.err")"; fi
}
# new_node DIR KEY HOST... [args]
new_node() {
    local d=$1 k=$2; shift 2
    if pk cert create-node --certs-dir="$d" --ca-key="$k" --key-type=ecdsa "$@"; then ok "setup: node in $(basename "$d")"
    else not_ok "setup: node in $(basename "$d")" "$(head -c 400 "$T_TMP/.pk.err")"; fi
}
# new_client DIR KEY USER [args]
new_client() {
    local d=$1 k=$2; shift 2
    if pk cert create-client --certs-dir="$d" --ca-key="$k" --key-type=ecdsa "$@"; then ok "setup: client in $(basename "$d")"
    else not_ok "setup: client in $(basename "$d")" "$(head -c 400 "$T_TMP/.pk.err")"; fi
}

# refuses "what" CODE DIR1 DIR2 -- pkictl args...: pk_fails, and neither DIR1 nor DIR2 changed.
# If a dir did change, it is put back as it was, so one failure does not cascade.
refuses() {
    local what=$1 code=$2 d1=$3 d2=$4; shift 5
    local s1 s2 d i=0
    s1=$(snapshot "$d1"); s2=$(snapshot "$d2")
    rm -rf "$T_TMP/.bak"; mkdir -p "$T_TMP/.bak"
    for d in "$d1" "$d2"; do i=$((i + 1)); [ -d "$d" ] && cp -a "$d" "$T_TMP/.bak/$i"; done
    pk_fails "$what" "$code" "$@"
    if [ "$(snapshot "$d1")" == "$s1" ] && [ "$(snapshot "$d2")" == "$s2" ]; then ok "$what: nothing changed on disk"
    else
        not_ok "$what: nothing changed on disk" "$(diff <(echo "$s1"; echo "$s2") <(snapshot "$d1"; snapshot "$d2") | head -n 10)"
        i=0
        for d in "$d1" "$d2"; do
            i=$((i + 1))
            if [ -d "$T_TMP/.bak/$i" ]; then rm -rf "$d"; cp -a "$T_TMP/.bak/$i" "$d"; fi
        done
    fi
}

# wrote_exist "what": every `wrote PATH` line of the last pk_ok names an existing file
wrote_exist() {
    local p bad=""
    while IFS= read -r p; do [ -f "$p" ] || bad="$bad $p"; done < <(sed -n 's/^wrote //p' "$T_TMP/.out")
    if [ -z "$bad" ] && grep -q '^wrote ' "$T_TMP/.out"; then ok "$1"; else not_ok "$1" "missing:$bad"; fi
}
