#!/bin/sh
# Regenerates the real TLS/DTLS handshake streams and the test certificates
# used by test_inspect_tls (see README.md for what each file holds).
# Needs root (tcpdump on lo), openssl (Debian 12: OpenSSL 3.0) and tshark.
# Usage: sh make_captures.sh [OUTDIR]   (default: the directory of this script)
# Private keys and pcaps stay in a temporary directory and are deleted; only
# public certificates (DER) and handshake bytes are written to OUTDIR.
set -eu
out=${1:-$(dirname "$0")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=pacs.example.test \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# ---- certificates with fixed validity dates (openssl ca) -------------------
mkdir -p "$work/ca/new"
: > "$work/ca/index.txt"
echo 1000 > "$work/ca/serial"
cat > "$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $work/ca/index.txt
new_certs_dir = $work/ca/new
serial = $work/ca/serial
policy = policy_any
default_md = sha256
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
[ ext_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[ ext_leaf ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
subjectAltName = DNS:pacs.example.test
EOF

# sign NAME SUBJECT ISSUER(self|ca) START END MD EXTENSIONS
# (the key $work/NAME.key must exist)
sign() {
    openssl req -new -utf8 -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
    if [ "$3" = self ]; then issuer="-selfsign -keyfile $work/$1.key"
    else issuer="-cert $work/ca.pem -keyfile $work/ca.key"; fi
    # shellcheck disable=SC2086
    openssl ca -batch -utf8 -notext -config "$work/ca.cnf" $issuer -in "$work/$1.csr" \
        -out "$work/$1.pem" -startdate "$4" -enddate "$5" -md "$6" -extensions "$7" 2>/dev/null
    openssl x509 -in "$work/$1.pem" -outform DER -out "$out/cert_$1.der"
}
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$work/$1.key" 2>/dev/null; }
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$2" -out "$work/$1.key"; }

rsa ca 2048
sign ca "/CN=Fluxaudit Test CA" self 20240101000000Z 20440101000000Z sha256 ext_ca
rsa rsa1024 1024
sign rsa1024 "/CN=old-modality.example.test" self 20200101000000Z 20300101000000Z sha1 ext_ca
rsa rsa2048 2048
sign rsa2048 "/CN=pacs.example.test" ca 20250101120000Z 20350101120000Z sha256 ext_leaf
ec ec256 P-256
sign ec256 "/CN=ecg-gateway.example.test" self 20250601000000Z 20270601000000Z sha256 ext_leaf
rsa expired 2048
sign expired "/CN=expired.example.test" ca 20150101000000Z 20160101000000Z sha256 ext_leaf
rsa md5 2048
sign md5 "/CN=md5.example.test" ca 20240101000000Z 20340101000000Z md5 ext_leaf
# DER-only cases (no handshake needed)
rsa md5self 2048
sign md5self "/CN=md5-self.example.test" self 20240101000000Z 20340101000000Z md5 ext_leaf
rsa forever 2048
sign forever "/CN=forever.example.test" ca 20240101000000Z 99991231235959Z sha384 ext_leaf
rsa selfissued 2048
sign selfissued "/CN=Fluxaudit Test CA" ca 20240101000000Z 20340101000000Z sha256 ext_leaf
openssl genpkey -algorithm ED25519 -out "$work/ed25519.key"
sign ed25519 "/CN=Infusion pump 7 é" self 20240101000000Z 20340101000000Z default ext_leaf
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$work/dsa.param"
openssl genpkey -paramfile "$work/dsa.param" -out "$work/dsa.key"
sign dsa "/CN=$(printf 'a%.0s' $(seq 64))" self 20240101000000Z 20340101000000Z sha256 ext_leaf

# ---- TCP captures ------------------------------------------------------------
# capture NAME PORT "server options" "client options"
capture() {
    name=$1 port=$2
    tcpdump -i lo -U -w "$work/$name.pcap" "tcp port $port" 2>/dev/null &
    dump=$!
    sleep 1
    openssl s_server -accept "127.0.0.1:$port" ${CERT:--cert $work/cert.pem -key $work/key.pem} \
        -naccept 1 -quiet $3 >/dev/null 2>&1 &
    server=$!
    sleep 1
    echo hello | openssl s_client -connect "127.0.0.1:$port" -servername pacs.example.test \
        $4 >/dev/null 2>&1 || true
    sleep 1
    kill "$server" 2>/dev/null || true
    kill "$dump"
    wait "$dump" 2>/dev/null || true
    # Concatenate each direction's TCP payloads in capture order (loopback:
    # no loss, no reordering) into NAME_client.bin and NAME_server.bin.
    for side in client server; do
        if [ $side = client ]; then filter="tcp.dstport == $port"; else filter="tcp.srcport == $port"; fi
        tshark -r "$work/$name.pcap" -Y "$filter && tcp.len > 0" -T fields -e tcp.payload \
            2>/dev/null | tr -d '\n:' | xxd -r -p > "$out/${name}_$side.bin"
    done
}

capture tls12 44312 "-tls1_2" "-tls1_2"
capture tls13 44313 "-tls1_3" ""
capture tls10 44310 "-tls1 -cipher DEFAULT@SECLEVEL=0" "-tls1 -cipher DEFAULT@SECLEVEL=0"
capture tls13to12 44314 "-tls1_2" ""
capture tls13hrr 44315 "-tls1_3 -groups P-256" "-groups X25519:P-256"

# TLS 1.2 with the certificates above: CERT replaces the server's certificate.
weak="-cipher DEFAULT@SECLEVEL=0"
CERT="-cert $work/rsa2048.pem -key $work/rsa2048.key -cert_chain $work/ca.pem" \
    capture cert_rsa2048 44320 "-tls1_2 -alpn http/1.1" "-tls1_2 -alpn h2,http/1.1"
CERT="-cert $work/rsa1024.pem -key $work/rsa1024.key" \
    capture cert_rsa1024 44321 "-tls1_2 $weak" "-tls1_2 $weak"
CERT="-cert $work/ec256.pem -key $work/ec256.key" \
    capture cert_ec256 44322 "-tls1_2" "-tls1_2 -alpn h2"
CERT="-cert $work/expired.pem -key $work/expired.key" \
    capture cert_expired 44323 "-tls1_2" "-tls1_2"
CERT="-cert $work/md5.pem -key $work/md5.key" \
    capture cert_md5 44324 "-tls1_2 $weak" "-tls1_2 $weak"

# ---- DTLS 1.2 over UDP -------------------------------------------------------
# Each direction's datagrams, each written as a 2-byte big-endian length and
# the UDP payload, into dtls12_client.bin / dtls12_server.bin.
port=44330
tcpdump -i lo -U -w "$work/dtls.pcap" "udp port $port" 2>/dev/null &
dump=$!
sleep 1
openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$work/cert.pem" -key "$work/key.pem" \
    -naccept 1 -quiet >/dev/null 2>&1 &
server=$!
sleep 1
echo hello | timeout 5 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
    -servername pacs.example.test >/dev/null 2>&1 || true
sleep 1
kill "$server" 2>/dev/null || true
kill "$dump"
wait "$dump" 2>/dev/null || true
for side in client server; do
    if [ $side = client ]; then filter="udp.dstport == $port"; else filter="udp.srcport == $port"; fi
    tshark -r "$work/dtls.pcap" -Y "$filter" -T fields -e udp.length -e udp.payload 2>/dev/null |
        while read -r length payload; do
            printf '%04x%s' $((length - 8)) "$payload"
        done | tr -d ':' | xxd -r -p > "$out/dtls12_$side.bin"
done
