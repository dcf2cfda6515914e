#!/usr/bin/env bash
# cert list: table and JSON output, row order, notes, every Error case, exit 0/3.
. "$(dirname "$0")/common.sh"

NOW=$(date +%s)

# lst "what" CODE DIR [args...]: run `cert list`, want exit CODE; output kept in $T_TMP/list.out
lst() {
    local what=$1 want=$2 dir=$3; shift 3
    "$PKICTL" cert list --certs-dir="$dir" "$@" >"$T_TMP/list.out" 2>"$T_TMP/list.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what (exit $want)"
    else not_ok "$what (exit $want)" "exit $rc: $(head -c 300 "$T_TMP/list.err") $(head -c 600 "$T_TMP/list.out")"; fi
}
# J EXPR: evaluate a python expression over the JSON in $T_TMP/list.out.
#   j = whole object, c = certificates, row(F) = the row whose certificate_file (or, with no
#   certificate, key_file) is F. Strings print raw, everything else as JSON.
J() {
    python3 - "$T_TMP/list.out" "$1" <<'EOF' 2>&1
import json, sys
j = json.load(open(sys.argv[1]))
c = j["certificates"]
def row(f):
    r = [x for x in c if x.get("certificate_file") == f] or \
        [x for x in c if not x.get("certificate_file") and x.get("key_file") == f]
    return r[0] if r else {}
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))
EOF
}
# jis "what" EXPR EXPECTED / jhas "what" EXPR REGEX
jis()  { is_eq "$1" "$(J "$2")" "$3"; }
jhas() { has "$1" "$(J "$2")" "$3"; }
# trow FILE: the table line naming FILE
trow() { grep -E "(^|[ /|])${1//./\\.}( |\||$)" "$T_TMP/list.out" | head -n1; }
# tline FILE: its line number in the table
tline() { grep -nE "(^|[ /|])${1//./\\.}( |\||$)" "$T_TMP/list.out" | head -n1 | cut -d: -f1; }

# ---------------------------------------------------------------- a healthy dir, pinned clock
D="$T_TMP/good"; KD="$T_TMP/goodkeys"
export PKICTL_NOW=$NOW0
new_ca "$D" "$KD/ca.key"
new_client "$D" "$KD/ca.key" bob --lifetime=1000h
new_node "$D" "$KD/ca.key" localhost 127.0.0.1
new_client "$D" "$KD/ca.key" alice --lifetime=720h
# ui.crt from a different CA: the signer is not checked for UI certs
new_ca "$T_TMP/foreign" "$T_TMP/foreignkeys/ca.key"
new_node "$T_TMP/foreign" "$T_TMP/foreignkeys/ca.key" ui.example.com --lifetime=100h
cp "$T_TMP/foreign/node.crt" "$D/ui.crt"; cp -p "$T_TMP/foreign/node.key" "$D/ui.key"
before=$(snapshot "$D")

lst "table list of a healthy dir" 0 "$D"
has "header has the six columns in order" "$(cat "$T_TMP/list.out")" 'Usage +.*Certificate File +.*Key File +.*Expires +.*Notes +.*Error'
r=$(trow ca.crt)
has "CA row: usage Certificate Authority" "$r" 'Certificate Authority'
has "CA row: num certs: 1" "$r" 'num certs: 1'
has "CA row: expiry date" "$r" "$(ymd $((NOW0 + 87840*3600)))"
r=$(trow node.crt)
has "node row: usage Node" "$r" '(^|[ |])Node( |\|)'
has "node row: key file node.key" "$r" 'node\.key'
has "node row: addresses" "$r" 'addresses: localhost,127\.0\.0\.1'
has "node row: expiry date" "$r" "$(ymd $((NOW0 + 43920*3600)))"
r=$(trow client.alice.crt)
has "alice row: usage Client" "$r" 'Client'
has "alice row: key file" "$r" 'client\.alice\.key'
has "alice row: user: alice" "$r" 'user: alice'
has "alice row: expiry date" "$r" "$(ymd $((NOW0 + 720*3600)))"
has "bob row: user: bob" "$(trow client.bob.crt)" 'user: bob'
r=$(trow ui.crt)
has "UI row: usage UI" "$r" '(^|[ |])UI( |\|)'
has "UI row: key file ui.key" "$r" 'ui\.key'
order="$(tline ca.crt) $(tline node.crt) $(tline client.alice.crt) $(tline client.bob.crt) $(tline ui.crt)"
if printf '%s\n' $order | sort -n -c 2>/dev/null && [ "$(echo $order | wc -w)" -eq 5 ]; then ok "table rows: CA, node, clients by user, UI"
else not_ok "table rows: CA, node, clients by user, UI" "lines $order"; fi
lacks "no row shows an error word" "$(cat "$T_TMP/list.out")" '[Ee]xpired|not yet|not valid|mismatch|does not match|permission'

lst "JSON list of a healthy dir" 0 "$D" --format=json
jis "JSON parses, certs_dir is the dir" 'j["certs_dir"]' "$D"
jis "JSON: 5 rows" 'len(c)' 5
jis "JSON: usages in order" '[x["usage"] for x in c]' '["Certificate Authority", "Node", "Client", "Client", "UI"]'
jis "JSON: certificate files in order" '[x["certificate_file"] for x in c]' '["ca.crt", "node.crt", "client.alice.crt", "client.bob.crt", "ui.crt"]'
jis "JSON: key files" '[x["key_file"] for x in c]' '["", "node.key", "client.alice.key", "client.bob.key", "ui.key"]'
jis "JSON: every row has the documented fields" \
    'all(set(["usage","certificate_file","key_file","expires","notes","error"]) <= set(x) for x in c)' true
jis "JSON: no errors" '[x["error"] for x in c]' '["", "", "", "", ""]'
jis "JSON: CA num_certs" 'row("ca.crt")["num_certs"]' 1
jis "JSON: CA notes" 'row("ca.crt")["notes"]' "num certs: 1"
jis "JSON: CA expires" 'row("ca.crt")["expires"]' "$(rfc3339 $((NOW0 + 87840*3600)))"
jis "JSON: node addresses" 'row("node.crt")["addresses"]' '["localhost", "127.0.0.1"]'
jis "JSON: node notes" 'row("node.crt")["notes"]' "addresses: localhost,127.0.0.1"
jis "JSON: node expires" 'row("node.crt")["expires"]' "$(rfc3339 $((NOW0 + 43920*3600)))"
jis "JSON: alice user" 'row("client.alice.crt")["user"]' alice
jis "JSON: alice notes" 'row("client.alice.crt")["notes"]' "user: alice"
jis "JSON: alice expires" 'row("client.alice.crt")["expires"]' "$(rfc3339 $((NOW0 + 720*3600)))"
jis "JSON: bob user" 'row("client.bob.crt")["user"]' bob
jis "JSON: UI expires" 'row("ui.crt")["expires"]' "$(rfc3339 $((NOW0 + 100*3600)))"
is_eq "list changed nothing on disk" "$(snapshot "$D")" "$before"

PKICTL_CERTS_DIR="$D" pk_ok "list uses PKICTL_CERTS_DIR" cert list --format json
out_has "PKICTL_CERTS_DIR listing has node.crt" 'node\.crt'
mkdir -p "$HOME/.pkictl-certs"; cp "$D/ca.crt" "$HOME/.pkictl-certs/"
pk_ok "list uses \$HOME/.pkictl-certs" cert list --format=json
out_has "HOME listing has ca.crt" 'ca\.crt'

# after the UI cert's 100h, only the UI row errs
PKICTL_NOW=$((NOW0 + 101*3600)) lst "UI expired at now+101h" 3 "$D" --format=json
jhas "JSON: UI row says expired" 'row("ui.crt")["error"]' 'expir'
jis "JSON: other rows fine" '[x["error"] for x in c[:4]]' '["", "", "", ""]'
# after alice's 720h, alice errs too
PKICTL_NOW=$((NOW0 + 721*3600)) lst "alice expired at now+721h" 3 "$D"
has "table: alice row shows expired" "$(trow client.alice.crt)" '[Ee]xpir'
lacks "table: bob row fine" "$(trow client.bob.crt)" '[Ee]xpir'
unset PKICTL_NOW

# ---------------------------------------------------------------- empty and missing dirs
mkdir -p "$T_TMP/empty"
lst "empty dir" 0 "$T_TMP/empty" --format=json
jis "empty dir: no rows" 'c' '[]'
lst "empty dir, table" 0 "$T_TMP/empty"
pk_fails "missing certs dir" 1 cert list --certs-dir="$T_TMP/nope"
err_has "missing certs dir message" "certs dir \".*nope\" does not exist"

# ---------------------------------------------------------------- expired (made in the past, listed now)
E="$T_TMP/expired"; EK="$T_TMP/expiredkeys"
PAST=$((NOW - 30*86400))
PKICTL_NOW=$PAST new_ca "$E" "$EK/ca.key"
PKICTL_NOW=$PAST new_node "$E" "$EK/ca.key" localhost --lifetime=48h
PKICTL_NOW=$PAST new_client "$E" "$EK/ca.key" alice
lst "expired node: list now" 3 "$E" --format=json
jhas "expired node: error says expired" 'row("node.crt")["error"]' '[Ee]xpir'
jis "expired node: CA and client fine" '[row("ca.crt")["error"], row("client.alice.crt")["error"]]' '["", ""]'
jis "expired node: still has its expiry" 'row("node.crt")["expires"]' "$(rfc3339 $((PAST + 48*3600)))"
lst "expired node, table" 3 "$E"
has "table: node row shows expired" "$(trow node.crt)" '[Ee]xpir'
PKICTL_NOW=$PAST lst "same dir listed at creation time" 0 "$E"
chmod 644 "$E/node.key"
lst "expired node with a 0644 key" 3 "$E" --format=json
jhas "two errors in one row are joined with '; '" 'row("node.crt")["error"]' '; '
jhas "joined error names expiry" 'row("node.crt")["error"]' '[Ee]xpir'
jhas "joined error names permissions" 'row("node.crt")["error"]' 'perm|mode|group|world|644'
chmod 600 "$E/node.key"

# ---------------------------------------------------------------- not yet valid / all expired
N="$T_TMP/nyv"; NK="$T_TMP/nyvkeys"
new_ca "$N" "$NK/ca.key"
new_node "$N" "$NK/ca.key" localhost
PKICTL_NOW=$((NOW - 86400)) lst "listed a day before creation" 3 "$N" --format=json
jhas "CA not yet valid" 'row("ca.crt")["error"]' 'not yet|not valid (yet|until|before)'
jhas "node not yet valid" 'row("node.crt")["error"]' 'not yet|not valid (yet|until|before)'
PKICTL_NOW=$((NOW + 20*366*86400)) lst "listed 20 years on" 3 "$N" --format=json
jhas "CA expired" 'row("ca.crt")["error"]' '[Ee]xpir'
jhas "node expired" 'row("node.crt")["error"]' '[Ee]xpir'
lst "listed now" 0 "$N"

# ---------------------------------------------------------------- key problems
K="$T_TMP/keyprob"; KK="$T_TMP/keyprobkeys"
new_ca "$K" "$KK/ca.key"
new_node "$K" "$KK/ca.key" localhost
new_client "$K" "$KK/ca.key" alice
new_client "$K" "$KK/ca.key" bob
new_client "$K" "$KK/ca.key" carol
mv "$K/node.key" "$T_TMP/swap"; mv "$K/client.alice.key" "$K/node.key"; mv "$T_TMP/swap" "$K/client.alice.key"
rm "$K/client.bob.key"
chmod 644 "$K/client.carol.key"
lst "swapped, missing and 0644 keys" 3 "$K" --format=json
jis "all 5 rows listed" 'len(c)' 5
jhas "node key does not match" 'row("node.crt")["error"]' 'match'
jhas "alice key does not match" 'row("client.alice.crt")["error"]' 'match'
jhas "bob key missing" 'row("client.bob.crt")["error"]' '[Kk]ey'
jhas "carol key has group/world permissions" 'row("client.carol.crt")["error"]' 'perm|mode|group|world|644'
jis "CA row fine" 'row("ca.crt")["error"]' ""
jis "rows still carry their expiry" 'all(x["expires"] for x in c)' true
lst "same, table" 3 "$K"
has "table: node row shows the mismatch" "$(trow node.crt)" 'match'
has "table: carol row shows the permissions" "$(trow client.carol.crt)" 'perm|mode|group|world|644'
chmod 640 "$K/client.carol.key"
lst "group-readable key" 3 "$K" --format=json
jhas "0640 key is an error too" 'row("client.carol.crt")["error"]' 'perm|mode|group|world|640'
PKICTL_SKIP_KEY_PERMISSION_CHECK=true lst "PKICTL_SKIP_KEY_PERMISSION_CHECK=true" 3 "$K" --format=json
jis "skip check: carol row fine" 'row("client.carol.crt")["error"]' ""
# fix everything: exit 0 again
mv "$K/node.key" "$T_TMP/swap"; mv "$K/client.alice.key" "$K/node.key"; mv "$T_TMP/swap" "$K/client.alice.key"
rm "$K/client.bob.crt"; chmod 600 "$K/client.carol.key"
lst "repaired dir" 0 "$K"

# ---------------------------------------------------------------- orphan keys
O="$T_TMP/orphan"; OK_="$T_TMP/orphankeys"
new_ca "$O" "$OK_/ca.key"
new_client "$O" "$OK_/ca.key" alice
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$O/client.zed.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$O/node.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$O/ui.key" 2>/dev/null
chmod 600 "$O/client.zed.key" "$O/node.key" "$O/ui.key"
echo "not a pkictl file" >"$O/README"
lst "orphan keys" 3 "$O" --format=json
jis "orphan keys: 5 rows (other files ignored)" 'len(c)' 5
jis "orphan keys: usages in order" '[x["usage"] for x in c]' '["Certificate Authority", "Node", "Client", "Client", "UI"]'
jhas "orphan ui.key has an error" 'row("ui.key")["error"]' '.'
jhas "orphan node.key has an error" 'row("node.key")["error"]' '.'
jis "orphan node.key row is Node" 'row("node.key")["usage"]' "Node"
jhas "orphan client.zed.key has an error" 'row("client.zed.key")["error"]' '.'
jis "orphan client.zed.key row is Client" 'row("client.zed.key")["usage"]' "Client"
jis "orphan rows have no expiry" '[row("node.key")["expires"], row("client.zed.key")["expires"]]' '[null, null]'
jis "alice fine" 'row("client.alice.crt")["error"]' ""
lst "orphan keys, table" 3 "$O"
has "table: orphan client key row" "$(trow client.zed.key)" 'Client'

# ---------------------------------------------------------------- leaf from another CA
A="$T_TMP/other"; AK="$T_TMP/otherkeys"; B="$T_TMP/otherb"
new_ca "$A" "$AK/a.key"
new_ca "$B" "$AK/b.key"
new_node "$B" "$AK/b.key" localhost
new_client "$B" "$AK/b.key" alice
new_client "$A" "$AK/a.key" bob
cp -p "$B/node.crt" "$B/node.key" "$B/client.alice.crt" "$B/client.alice.key" "$A/"
cp -p "$B/node.crt" "$A/ui.crt"; cp -p "$B/node.key" "$A/ui.key"
lst "leaves signed by another CA" 3 "$A" --format=json
jhas "node not signed by ca.crt" 'row("node.crt")["error"]' '.'
jhas "alice not signed by ca.crt" 'row("client.alice.crt")["error"]' '.'
jis "bob (signed by ca.crt) fine" 'row("client.bob.crt")["error"]' ""
jis "ui.crt from another CA is fine" 'row("ui.crt")["error"]' ""
lst "leaves signed by another CA, table" 3 "$A"
has "table: node row shows an error" "$(trow node.crt)" '[Ss]ign|CA|[Ii]ssue'

# ---------------------------------------------------------------- rotated CA
pk_ok "rotate CA in B" cert create-ca --certs-dir="$B" --ca-key="$AK/b2.key" --key-type=ecdsa --overwrite
lst "after rotation, old leaves still fine" 0 "$B" --format=json
jis "num_certs is 2" 'row("ca.crt")["num_certs"]' 2
jis "notes: num certs: 2" 'row("ca.crt")["notes"]' "num certs: 2"

# ---------------------------------------------------------------- corrupt files
C="$T_TMP/corrupt"; CK="$T_TMP/corruptkeys"
new_ca "$C" "$CK/ca.key"
new_node "$C" "$CK/ca.key" localhost
new_client "$C" "$CK/ca.key" alice
cp "$C/ca.crt" "$T_TMP/goodca.crt"
head -c 500 /dev/urandom >"$C/ca.crt"
lst "garbage ca.crt" 3 "$C" --format=json
jis "garbage ca.crt: all rows still listed" '[x["certificate_file"] for x in c]' '["ca.crt", "node.crt", "client.alice.crt"]'
jhas "garbage ca.crt: CA row error" 'row("ca.crt")["error"]' '.'
jis "garbage ca.crt: CA expires is null" 'row("ca.crt")["expires"]' null
jhas "garbage ca.crt: node row still has its expiry" 'row("node.crt")["expires"]' '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
lst "garbage ca.crt, table" 3 "$C"
has "table: node row still listed" "$(trow node.crt)" 'Node'
cp "$T_TMP/goodca.crt" "$C/ca.crt"
head -c 200 "$T_TMP/goodca.crt" >"$C/node.crt"
lst "truncated node.crt" 3 "$C" --format=json
jhas "truncated node.crt: node row error" 'row("node.crt")["error"]' '.'
jis "truncated node.crt: expires null" 'row("node.crt")["expires"]' null
jis "truncated node.crt: other rows fine" '[row("ca.crt")["error"], row("client.alice.crt")["error"]]' '["", ""]'
: >"$C/node.crt"
lst "empty node.crt" 3 "$C" --format=json
jhas "empty node.crt: node row error" 'row("node.crt")["error"]' '.'
printf 'hello\n' >"$C/ca.crt"
lst "text ca.crt" 3 "$C" --format=json
jhas "text ca.crt: CA row error" 'row("ca.crt")["error"]' '.'
jis "text ca.crt: alice still listed" 'row("client.alice.crt")["usage"]' Client

finish
