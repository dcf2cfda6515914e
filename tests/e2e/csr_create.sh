#!/usr/bin/env bash
# csr create: --key / --new-key, --key-out naming, key types and modes, --subject parsing,
# --san types and refusals, --cluster-fqdn, --usage, --overwrite, nothing written on refusal.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; K="$T_TMP/keys"; mkdir -p "$W" "$K"
SRV='TLS Web Server Authentication'
CLI='TLS Web Client Authentication'

# nc "what" CODE args...: csr create must be refused, nothing changed in W or K
nc() { local w=$1 c=$2; shift 2
       refuses "csr create: $w" "$c" "$W" "$K" -- csr create "$@"; }
# nce "what" args...: ECDSA --new-key request into W/bad.csr must be refused with exit 1
nce() { local w=$1; shift
        nc "$w" 1 --new-key --key-type=ecdsa --out="$W/bad.csr" "$@"; }

# ---------------------------------------------------------------- help, command line
pk_ok "csr create --help exits 0" csr create --help
out_has "csr create --help shows its usage" 'csr create'
pk_fails "csr without subcommand: exit 2" 2 csr
pk_fails "unknown csr subcommand: exit 2" 2 csr frobnicate
nc "unknown flag: exit 2" 2 --new-key --key-type=ecdsa --subject=/CN=x --out="$W/x.csr" --bogus
nc "positional argument: exit 2" 2 extra --new-key --key-type=ecdsa --subject=/CN=x --out="$W/x.csr"
nc "missing --out: exit 2" 2 --new-key --key-type=ecdsa --subject=/CN=x
nc "--out without value: exit 2" 2 --new-key --key-type=ecdsa --subject=/CN=x --out
nc "neither --key nor --new-key" any --subject=/CN=x --out="$W/x.csr"

# ---------------------------------------------------------------- --new-key, defaults
pk_ok "--new-key --out=a.csr (defaults)" csr create --new-key --subject=/CN=a.example.com --out="$W/a.csr"
out_has "prints wrote a.csr" '^wrote .*/a\.csr$'
out_has "prints wrote a.key" '^wrote .*/a\.key$'
wrote_exist "every wrote PATH exists"
is_eq "stdout is exactly two wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "2/2"
is_eq "only a.csr and a.key written" "$(ls -A "$W" | tr '\n' ' ')" "a.csr a.key "
mode_is "a.csr mode 0644" "$W/a.csr" 644
mode_is "a.key mode 0600" "$W/a.key" 600
if is_csr_pem "$W/a.csr"; then ok "a.csr is a PEM CERTIFICATE REQUEST"; else not_ok "a.csr is a PEM CERTIFICATE REQUEST" "$(head -n1 "$W/a.csr")"; fi
req_ok "a.csr self-signature verifies" "$W/a.csr"
check "openssl pkey reads a.key" openssl pkey -in "$W/a.key" -noout
same "a.key is the CSR's key" "$(kpub "$W/a.key")" "$(rpub "$W/a.csr")"
has "default key is RSA 2048" "$(rtext "$W/a.csr")" 'Public-Key: \(2048 bit\)'
is_eq "RSA request signed with SHA-256" "$(rsigalg "$W/a.csr")" "sha256WithRSAEncryption"
is_eq "subject CN=a.example.com" "$(rsubject "$W/a.csr")" "CN=a.example.com"
is_eq "default usage server: EKU serverAuth only" "$(reku "$W/a.csr")" "$SRV"
is_eq "no SAN requested when none given" "$(rsan_list "$W/a.csr")" ""

# --key-out default naming
for o in "b.req:b.req.key" "c:c.key" "d.csr.bak:d.csr.bak.key" "e.CSR:e.CSR.key" "f.csr.csr:f.csr.key"; do
    out=${o%%:*}; key=${o#*:}
    pk_ok "--out=$out: key defaults to $key" csr create --new-key --key-type=ecdsa --subject=/CN=x --out="$W/$out"
    exists "--out=$out: $key written" "$W/$key"
    mode_is "--out=$out: $key mode 0600" "$W/$key" 600
    same "--out=$out: $key is the request's key" "$(kpub "$W/$key")" "$(rpub "$W/$out")"
done
pk_ok "--key-out=FILE" csr create --new-key --key-type=ecdsa --subject=/CN=x --out="$W/g.csr" --key-out="$K/g-private.pem"
out_has "prints wrote for --key-out" '^wrote .*/g-private\.pem$'
absent "--key-out: no g.key next to the request" "$W/g.key"
mode_is "--key-out file mode 0600" "$K/g-private.pem" 600
same "--key-out file is the request's key" "$(kpub "$K/g-private.pem")" "$(rpub "$W/g.csr")"
pk_ok "--flag VALUE forms" csr create --new-key --key-type ecdsa --subject /CN=x --out "$W/h.csr" --key-out "$K/h.key"
exists "--flag VALUE: h.csr written" "$W/h.csr"
exists "--flag VALUE: h.key written" "$K/h.key"

# key types
for kt in "ecdsa 256 prime256v1|P-256 ecdsa-with-SHA256" "ecdsa 384 secp384r1|P-384 ecdsa-with-SHA384" \
          "ecdsa 521 secp521r1|P-521 ecdsa-with-SHA512" "rsa 3072 3072.bit sha256WithRSAEncryption" \
          "ed25519 - ED25519 ED25519"; do
    set -- $kt
    args=(--key-type="$1"); [ "$2" != - ] && args+=(--key-size="$2")
    n="kt-$1-$2"
    pk_ok "--new-key ${args[*]}" csr create --new-key "${args[@]}" --subject=/CN=x --san=dns:x.example.com --out="$W/$n.csr"
    has "${args[*]}: key type" "$(rtext "$W/$n.csr")" "$3"
    is_eq "${args[*]}: signature $4" "$(rsigalg "$W/$n.csr")" "$4"
    req_ok "${args[*]}: self-signature verifies" "$W/$n.csr"
    mode_is "${args[*]}: key mode 0600" "$W/$n.key" 600
    same "${args[*]}: key is the request's" "$(kpub "$W/$n.key")" "$(rpub "$W/$n.csr")"
done
pk_ok "--key-type=ecdsa without --key-size is P-256" csr create --new-key --key-type=ecdsa --subject=/CN=x --out="$W/p.csr"
has "ecdsa default is P-256" "$(rtext "$W/p.csr")" 'prime256v1|P-256'
for ks in "rsa 1024" "rsa 2047" "ecdsa 255" "ecdsa 224" "ed25519 256" "rsa abc"; do
    set -- $ks
    nc "--key-type=$1 --key-size=$2" 1 --new-key --key-type="$1" --key-size="$2" --subject=/CN=x --out="$W/bad.csr"
done
nc "--key-type=dsa" 1 --new-key --key-type=dsa --subject=/CN=x --out="$W/bad.csr"

# ---------------------------------------------------------------- --key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/ec.pem" 2>/dev/null; chmod 600 "$K/ec.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.pem" 2>/dev/null; chmod 600 "$K/rsa.pem"
openssl genpkey -algorithm ED25519 -out "$K/ed.pem" 2>/dev/null; chmod 600 "$K/ed.pem"
for k in ec rsa ed; do
    pk_ok "--key=$k.pem (openssl key)" csr create --key="$K/$k.pem" --subject=/CN=k.example.com --out="$W/key-$k.csr"
    is_eq "--key=$k.pem: one wrote line" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "1/1"
    out_has "--key=$k.pem: wrote the request" '^wrote .*/key-'$k'\.csr$'
    same "--key=$k.pem: the request carries that key" "$(rpub "$W/key-$k.csr")" "$(kpub "$K/$k.pem")"
    req_ok "--key=$k.pem: self-signature verifies" "$W/key-$k.csr"
    absent "--key=$k.pem: no key file written" "$W/key-$k.key"
done
mode_is "--key: the key file is untouched (mode 0600)" "$K/ec.pem" 600
pk_ok "--key with a key pkictl wrote earlier" csr create --key="$W/a.key" --subject=/CN=again --out="$W/again.csr"
same "--key reuse: same public key as a.csr" "$(rpub "$W/again.csr")" "$(rpub "$W/a.csr")"
openssl ec -in "$K/ec.pem" -out "$K/ec-trad.pem" 2>/dev/null; chmod 600 "$K/ec-trad.pem"
pk_ok "--key with a traditional 'EC PRIVATE KEY' file" csr create --key="$K/ec-trad.pem" --subject=/CN=t --out="$W/trad.csr"
same "traditional EC key: the request carries it" "$(rpub "$W/trad.csr")" "$(kpub "$K/ec.pem")"

nc "both --key and --new-key" any --key="$K/ec.pem" --new-key --subject=/CN=x --out="$W/x.csr"
nc "--key of a missing file" 1 --key="$K/missing.pem" --subject=/CN=x --out="$W/x.csr"
head -c 300 /dev/urandom >"$K/garbage.pem"; chmod 600 "$K/garbage.pem"
nc "--key with garbage" 1 --key="$K/garbage.pem" --subject=/CN=x --out="$W/x.csr"
openssl req -x509 -key "$K/ec.pem" -subj /CN=c -days 1 -out "$K/cert.pem" 2>/dev/null; chmod 600 "$K/cert.pem"
nc "--key with a certificate" 1 --key="$K/cert.pem" --subject=/CN=x --out="$W/x.csr"
for m in 644 640 604; do
    chmod "$m" "$K/ec.pem"
    nc "--key with mode 0$m" 1 --key="$K/ec.pem" --subject=/CN=x --out="$W/x.csr"
done
PKICTL_SKIP_KEY_PERMISSION_CHECK=true pk_ok "--key 0604 accepted with PKICTL_SKIP_KEY_PERMISSION_CHECK=true" \
    csr create --key="$K/ec.pem" --subject=/CN=x --out="$W/skip.csr"
chmod 600 "$K/ec.pem"

# ---------------------------------------------------------------- --subject
S='/C=US/ST=CA/L=San Francisco/O=Example/OU=Ops/CN=db.example.com'
pk_ok "--subject with every attribute" csr create --new-key --key-type=ecdsa --subject="$S" --out="$W/s1.csr"
is_eq "all six attributes, values kept" "$(rsubject_set "$W/s1.csr")" "C=US|CN=db.example.com|L=San Francisco|O=Example|OU=Ops|ST=CA|"
is_eq "no other attributes (RFC 2253)" "$(rsubject "$W/s1.csr" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)" \
    "C=US,CN=db.example.com,L=San Francisco,O=Example,OU=Ops,ST=CA"
req_ok "--subject: self-signature verifies" "$W/s1.csr"
pk_ok "--subject in another order" csr create --new-key --key-type=ecdsa --subject='/CN=x.example.com/O=Example/C=DE' --out="$W/s2.csr"
is_eq "any order: attributes kept" "$(rsubject_set "$W/s2.csr")" "C=DE|CN=x.example.com|O=Example|"
pk_ok "--subject with \\/ inside a value" csr create --new-key --key-type=ecdsa --subject='/O=a\/b/OU=x\/y\/z/CN=slash' --out="$W/s3.csr"
is_eq "\\/ becomes / in the value" "$(rsubject_set "$W/s3.csr")" "CN=slash|O=a/b|OU=x/y/z|"
V64=$(printf 'v%.0s' {1..64}); V65=$(printf 'v%.0s' {1..65})
pk_ok "64-character value" csr create --new-key --key-type=ecdsa --subject="/O=$V64/CN=x" --out="$W/s4.csr"
is_eq "64-character value kept" "$(rsubject_set "$W/s4.csr")" "CN=x|O=$V64|"
pk_ok "one-character values, spaces and punctuation" csr create --new-key --key-type=ecdsa \
    --subject="/O=A/OU=R and D (ops), team: 1/CN=x" --out="$W/s5.csr"
is_eq "punctuation kept" "$(rsubject_set "$W/s5.csr")" "CN=x|O=A|OU=R and D (ops), team: 1|"
pk_ok "subject without CN, with a SAN" csr create --new-key --key-type=ecdsa --subject=/O=Example --san=dns:o.example.com --out="$W/s6.csr"
is_eq "subject O=Example only" "$(rsubject "$W/s6.csr")" "O=Example"

for s in '/X=1' '/E=a@example.com' '/emailAddress=a@example.com' '/DC=com' '/SN=x' '/cn=x' '/Cn=x' '/serialNumber=1' \
         '/CN=a/CN=b' '/O=a/CN=x/O=b' '/C=US/C=DE/CN=x' \
         '/C=USA/CN=x' '/C=U/CN=x' '/C=12/CN=x' '/C=1A/CN=x' '/C=U S/CN=x' \
         '/CN=' '/O=/CN=x' "/O=$V65/CN=x" "/CN=$V65" \
         $'/CN=a\tb' $'/CN=a\x01b' $'/CN=a\x7fb' $'/CN=a\nb' $'/O=x\x1b[31m/CN=x' \
         'CN=x' 'CN=x/O=y' '/CN' '/=x' '/CN=x/' '/CN=x//O=y' '/' ' /CN=x'; do
    nce "--subject=$(printf '%q' "$s")" --subject="$s"
done
nc "empty --subject" any --new-key --key-type=ecdsa --out="$W/bad.csr" --subject=

# ---------------------------------------------------------------- --san
pk_ok "--san with every type, repeated" csr create --new-key --key-type=ecdsa --subject=/CN=san \
    --san=dns:a.example.com,ip:10.0.0.1,uri:spiffe://cluster.local/ns/db/sa/node,email:ops@example.com \
    --san=ip:::1 --san=dns:*.svc.example.com --san ip:2001:db8::1 --out="$W/san1.csr"
SL=$(rsan_list "$W/san1.csr")
has "dns SAN" "$SL" '^DNS:a\.example\.com$'
has "ip SAN" "$SL" '^IP Address:10\.0\.0\.1$'
has "uri SAN" "$SL" '^URI:spiffe://cluster\.local/ns/db/sa/node$'
has "email SAN" "$SL" '^email:ops@example\.com$'
has "IPv6 ::1 SAN" "$SL" '^IP Address:0:0:0:0:0:0:0:1$'
has "IPv6 2001:db8::1 SAN" "$SL" '^IP Address:2001:DB8:0:0:0:0:0:1$'
has "wildcard leftmost dns SAN" "$SL" '^DNS:\*\.svc\.example\.com$'
is_eq "seven SANs" "$(printf '%s\n' "$SL" | wc -l)" 7
req_ok "--san: self-signature verifies" "$W/san1.csr"
is_eq "--san: EKU still serverAuth" "$(reku "$W/san1.csr")" "$SRV"
pk_ok "SAN only, no --subject" csr create --new-key --key-type=ecdsa --san=dns:only.example.com --out="$W/san2.csr"
is_eq "SAN only: the SAN" "$(rsan_list "$W/san2.csr")" "DNS:only.example.com"
is_eq "SAN only: empty subject" "$(rsubject "$W/san2.csr")" ""
pk_ok "SAN of type ip only" csr create --new-key --key-type=ecdsa --san=ip:192.168.1.1 --out="$W/san3.csr"
is_eq "ip-only SAN" "$(rsan_list "$W/san3.csr")" "IP Address:192.168.1.1"
U1024="https://example.com/$(printf 'p%.0s' {1..1100})"; U1024=${U1024:0:1024}
pk_ok "uri of 1024 characters" csr create --new-key --key-type=ecdsa --san="uri:$U1024" --out="$W/san4.csr"
is_eq "1024-character uri kept" "$(rsan_list "$W/san4.csr")" "URI:$U1024"
pk_ok "uri with other schemes, email with subdomain" csr create --new-key --key-type=ecdsa \
    --san=uri:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6,email:first.last+tag@mail.example.com --out="$W/san5.csr"
is_eq "urn uri and email kept" "$(rsan_list "$W/san5.csr" | tr '\n' '|')" \
    "URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6|email:first.last+tag@mail.example.com|"

L64=$(printf 'a%.0s' {1..64})
for s in 'dns:a..b' 'dns:a_b.com' 'dns:-a.com' 'dns:a-.com' "dns:$L64.com" 'dns:example.com.' 'dns:a b.com' 'dns:1.2.3.256' \
         'dns:a.*.example.com' 'dns:f*.example.com' 'dns:*.com' 'dns:*' 'dns:*.*.example.com' 'dns:' \
         'ip:1.2.3.256' 'ip:1.2.3' 'ip:::g' 'ip:localhost' 'ip:fe80::1%eth0' 'ip:' 'ip:01.2.3.4' \
         'uri:cluster.local/ns/db' 'uri://cluster.local/x' 'uri:/just/a/path' 'uri:https://a b/c' 'uri:https://a.example.com/ x' \
         $'uri:https://a\x01b' "uri:${U1024}x" 'uri:' \
         'email:ops.example.com' 'email:ops@a..b' 'email:ops@-bad.com' 'email:ops@exa mple.com' 'email:ops@' 'email:@example.com' \
         'email:ops@a_b.com' 'email:' \
         'foo:x' 'DNSNAME:x.example.com' 'x.example.com' 'dirname:/CN=x' 'othername:x' 'rid:1.2.3' \
         'dns:a.example.com,foo:x' 'dns:good.example.com,dns:a..b'; do
    nce "--san=$(printf '%q' "$s")" --subject=/CN=x --san="$s"
done
nce "one bad --san among good ones" --subject=/CN=x --san=dns:a.example.com --san=ip:10.0.0.300
nc "empty --san" any --new-key --key-type=ecdsa --subject=/CN=x --out="$W/bad.csr" --san=

# ---------------------------------------------------------------- --cluster-fqdn, --usage
FQ_SANS="DNS:*.db.example.com|DNS:*.internal.db.example.com|DNS:db.example.com|DNS:internal.db.example.com|"
pk_ok "--cluster-fqdn" csr create --new-key --key-type=ecdsa --cluster-fqdn=db.example.com --out="$W/fq1.csr"
is_eq "--cluster-fqdn: CN=FQDN" "$(rsubject "$W/fq1.csr")" "CN=db.example.com"
is_eq "--cluster-fqdn: the four SANs" "$(rsan_list "$W/fq1.csr" | LC_ALL=C sort | tr '\n' '|')" "$FQ_SANS"
is_eq "--cluster-fqdn: usage defaults to both" "$(reku "$W/fq1.csr" | sorted)" "$CLI,$SRV"
req_ok "--cluster-fqdn: self-signature verifies" "$W/fq1.csr"
pk_ok "--cluster-fqdn with a subject naming a CN" csr create --new-key --key-type=ecdsa --cluster-fqdn=db.example.com \
    --subject=/O=Example/CN=custom --out="$W/fq2.csr"
is_eq "subject CN wins" "$(rsubject_set "$W/fq2.csr")" "CN=custom|O=Example|"
is_eq "SANs still the four" "$(rsan_list "$W/fq2.csr" | LC_ALL=C sort | tr '\n' '|')" "$FQ_SANS"
pk_ok "--cluster-fqdn with a subject without CN" csr create --new-key --key-type=ecdsa --cluster-fqdn=db.example.com \
    --subject=/O=Example --out="$W/fq3.csr"
is_eq "CN=FQDN added to the subject" "$(rsubject_set "$W/fq3.csr")" "CN=db.example.com|O=Example|"
pk_ok "--cluster-fqdn --usage=server" csr create --new-key --key-type=ecdsa --cluster-fqdn=db.example.com --usage=server --out="$W/fq4.csr"
is_eq "--usage overrides the cluster default" "$(reku "$W/fq4.csr")" "$SRV"
pk_ok "--cluster-fqdn with --san" csr create --new-key --key-type=ecdsa --cluster-fqdn=db.example.com \
    --san=dns:extra.example.com,ip:10.1.2.3 --out="$W/fq5.csr"
S5=$(rsan_list "$W/fq5.csr")
is_eq "--cluster-fqdn + --san: six SANs" "$(printf '%s\n' "$S5" | wc -l)" 6
has "--cluster-fqdn + --san: extra dns kept" "$S5" '^DNS:extra\.example\.com$'
has "--cluster-fqdn + --san: extra ip kept" "$S5" '^IP Address:10\.1\.2\.3$'
has "--cluster-fqdn + --san: FQDN kept" "$S5" '^DNS:\*\.internal\.db\.example\.com$'
for f in 'a..b' 'a_b.example.com' '*.example.com' 'db.example.com.' '-db.example.com' "$L64.example.com"; do
    nce "--cluster-fqdn=$f" --cluster-fqdn="$f"
done
nc "empty --cluster-fqdn" any --new-key --key-type=ecdsa --out="$W/bad.csr" --cluster-fqdn=

pk_ok "--usage=client" csr create --new-key --key-type=ecdsa --subject=/CN=alice --usage=client --out="$W/u1.csr"
is_eq "--usage=client: clientAuth only" "$(reku "$W/u1.csr")" "$CLI"
pk_ok "--usage=both" csr create --new-key --key-type=ecdsa --san=dns:b.example.com --usage=both --out="$W/u2.csr"
is_eq "--usage=both: serverAuth and clientAuth" "$(reku "$W/u2.csr" | sorted)" "$CLI,$SRV"
pk_ok "--usage=server" csr create --new-key --key-type=ecdsa --san=dns:b.example.com --usage server --out="$W/u3.csr"
is_eq "--usage=server: serverAuth only" "$(reku "$W/u3.csr")" "$SRV"
for u in u1 u2 u3; do req_ok "$u.csr verifies (openssl req -verify)" "$W/$u.csr"; done
for u in ca foo Server 'server,client'; do
    nce "--usage=$(printf '%q' "$u")" --subject=/CN=x --usage="$u"
done
nc "empty --usage" any --new-key --key-type=ecdsa --subject=/CN=x --out="$W/bad.csr" --usage=

# ---------------------------------------------------------------- neither CN nor SAN
nc "no subject, no SAN, no --cluster-fqdn" any --new-key --key-type=ecdsa --out="$W/bad.csr"
nce "subject without CN and no SAN" --subject=/O=Example/C=US

# ---------------------------------------------------------------- existing files, --overwrite
pk_ok "setup: o.csr" csr create --new-key --key-type=ecdsa --subject=/CN=one --out="$W/o.csr"
nc "existing --out without --overwrite" 1 --new-key --key-type=ecdsa --subject=/CN=two --out="$W/o.csr" --key-out="$K/o2.key"
err_has "message names o.csr" 'o\.csr'
nc "existing default key file without --overwrite" 1 --new-key --key-type=ecdsa --subject=/CN=two --out="$W/o.csr"
nc "existing key file (--key-out) without --overwrite" 1 --new-key --key-type=ecdsa --subject=/CN=two --out="$W/o-new.csr" --key-out="$W/o.key"
rm -f "$W/o.csr"
nc "existing key file alone (request absent) without --overwrite" 1 --new-key --key-type=ecdsa --subject=/CN=two --out="$W/o.csr"
pk_ok "setup: o.csr again with --key" csr create --key="$W/o.key" --subject=/CN=one --out="$W/o.csr"
nc "existing --out with --key, without --overwrite" 1 --key="$W/o.key" --subject=/CN=two --out="$W/o.csr"
oldkey=$(cat "$W/o.key")
pk_ok "--overwrite with --key replaces the request" csr create --key="$W/o.key" --subject=/CN=two --out="$W/o.csr" --overwrite
is_eq "--overwrite: new subject" "$(rsubject "$W/o.csr")" "CN=two"
is_eq "--overwrite with --key: the key is untouched" "$(cat "$W/o.key")" "$oldkey"
pk_ok "--overwrite with --new-key replaces both" csr create --new-key --key-type=ecdsa --subject=/CN=three --out="$W/o.csr" --overwrite
is_eq "--overwrite --new-key: new subject" "$(rsubject "$W/o.csr")" "CN=three"
is_ne "--overwrite --new-key: key replaced" "$(cat "$W/o.key")" "$oldkey"
same "--overwrite --new-key: new key is the request's" "$(kpub "$W/o.key")" "$(rpub "$W/o.csr")"
mode_is "--overwrite: request mode 0644" "$W/o.csr" 644
mode_is "--overwrite: key mode 0600" "$W/o.key" 600
nc "--out in a missing directory" 1 --new-key --key-type=ecdsa --subject=/CN=x --out="$T_TMP/nope/x.csr"
absent "missing directory not created" "$T_TMP/nope"
is_eq "no temp files left in W" "$(find "$W" -mindepth 1 -printf '%f\n' | grep -Evc '\.(csr|key|req|CSR|bak)$|^c$')" 0

finish
