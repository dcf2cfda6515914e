#!/usr/bin/env bash
# --version, --help / -h / help on every command; wrong command lines exit 2.
. "$(dirname "$0")/common.sh"

D="$T_TMP/certs"; mkdir -p "$D"

pk_ok "--version exits 0" --version
out_has "--version prints a version number" '[0-9]+\.[0-9]+\.[0-9]+'
out_has "--version names pkictl" 'pkictl'

for h in --help -h help; do
    pk_ok "pkictl $h exits 0" $h
    out_has "pkictl $h mentions cert" 'cert'
    for c in create-ca create-node create-client list; do
        out_has "pkictl $h mentions $c" "$c"
    done
    is_eq "pkictl $h writes nothing on stderr" "$(cat "$T_TMP/.err")" ""
done

for h in --help -h; do
    pk_ok "cert $h exits 0" cert $h
    for c in create-ca create-node create-client list; do
        out_has "cert $h mentions $c" "$c"
    done
done

# usage of each subcommand names each of its flags
declare -A FLAGS=(
    [create-ca]="--certs-dir --ca-key --allow-ca-key-reuse --overwrite --lifetime --key-type --key-size"
    [create-node]="--certs-dir --ca-key --overwrite --lifetime --key-type --key-size --also-generate-pkcs8-key"
    [create-client]="--certs-dir --ca-key --overwrite --lifetime --key-type --key-size --also-generate-pkcs8-key"
    [list]="--certs-dir --format"
)
for c in create-ca create-node create-client list; do
    for h in --help -h; do
        pk_ok "cert $c $h exits 0" cert "$c" "$h"
        is_eq "cert $c $h writes nothing on stderr" "$(cat "$T_TMP/.err")" ""
        out_has "cert $c $h names the command" "$c"
    done
    pk_ok "cert $c --help" cert "$c" --help
    for f in ${FLAGS[$c]}; do
        out_has "cert $c --help mentions $f" "$f"
    done
    # --help wins over other arguments and writes nothing
    pk_ok "cert $c --help after other flags exits 0" cert "$c" --certs-dir="$D" --help
    is_eq "cert $c --help wrote nothing" "$(ls -A "$D")" ""
done
pk_ok "create-node HOST --help exits 0" cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/k" --help
absent "create-node --help did not make a key" "$T_TMP/k"

# wrong command lines: exit 2
pk_fails "no arguments: exit 2" 2
pk_fails "unknown command: exit 2" 2 frobnicate
pk_fails "unknown option: exit 2" 2 --frobnicate
pk_fails "cert without subcommand: exit 2" 2 cert
pk_fails "unknown cert subcommand: exit 2" 2 cert frobnicate
pk_fails "create-ca unknown flag: exit 2" 2 cert create-ca --certs-dir="$D" --ca-key="$T_TMP/ca.key" --bogus
pk_fails "create-ca --also-generate-pkcs8-key is not its flag: exit 2" 2 cert create-ca --certs-dir="$D" --ca-key="$T_TMP/ca.key" --also-generate-pkcs8-key
pk_fails "create-node unknown flag: exit 2" 2 cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/ca.key" --bogus
pk_fails "create-node --allow-ca-key-reuse is not its flag: exit 2" 2 cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/ca.key" --allow-ca-key-reuse
pk_fails "create-client unknown flag: exit 2" 2 cert create-client alice --certs-dir="$D" --ca-key="$T_TMP/ca.key" --bogus
pk_fails "list unknown flag: exit 2" 2 cert list --certs-dir="$D" --bogus
pk_fails "list --overwrite is not its flag: exit 2" 2 cert list --certs-dir="$D" --overwrite
pk_fails "list --ca-key is not its flag: exit 2" 2 cert list --certs-dir="$D" --ca-key="$T_TMP/ca.key"
pk_fails "create-node without HOST: exit 2" 2 cert create-node --certs-dir="$D" --ca-key="$T_TMP/ca.key"
pk_fails "create-client without USER: exit 2" 2 cert create-client --certs-dir="$D" --ca-key="$T_TMP/ca.key"
pk_fails "create-client with two users: exit 2" 2 cert create-client alice bob --certs-dir="$D" --ca-key="$T_TMP/ca.key"
pk_fails "create-ca with a positional argument: exit 2" 2 cert create-ca extra --certs-dir="$D" --ca-key="$T_TMP/ca.key"
pk_fails "list with a positional argument: exit 2" 2 cert list extra --certs-dir="$D"
pk_fails "missing flag value (--certs-dir last): exit 2" 2 cert list --certs-dir
pk_fails "missing flag value (--lifetime last): exit 2" 2 cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/ca.key" --lifetime
pk_fails "missing flag value (--ca-key last): exit 2" 2 cert create-ca --certs-dir="$D" --ca-key
pk_fails "create-ca without --ca-key or PKICTL_CA_KEY: exit 2" 2 cert create-ca --certs-dir="$D"
err_has "missing CA key message names the flag" 'ca-key|PKICTL_CA_KEY'
pk_fails "create-node without --ca-key or PKICTL_CA_KEY: exit 2" 2 cert create-node localhost --certs-dir="$D"
pk_fails "create-client without --ca-key or PKICTL_CA_KEY: exit 2" 2 cert create-client alice --certs-dir="$D"
is_eq "no wrong command line wrote anything" "$(ls -A "$D"; ls "$T_TMP"/ca.key 2>/dev/null)" ""

# bad values are exit 1, not 2
pk_fails "list --format=xml: exit 1" 1 cert list --certs-dir="$D" --format=xml
pk_fails "create-ca --key-type=dsa: exit 1" 1 cert create-ca --certs-dir="$D" --ca-key="$T_TMP/ca.key" --key-type=dsa

finish
