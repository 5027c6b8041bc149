#!/bin/sh
# Regenerates the real TLS handshake streams used by test_inspect_tls.
# Needs root (tcpdump on lo), openssl (Debian 12: OpenSSL 3.0) and tshark.
# Usage: sh make_captures.sh OUTDIR   (default: the directory of this script)
# The throwaway key and the pcaps stay in a temporary directory.
set -eu
out=${1:-$(dirname "$0")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=pacs.example.test \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# capture NAME PORT "server options" "client options"
capture() {
    name=$1 port=$2
    tcpdump -i lo -U -w "$work/$name.pcap" "tcp port $port" 2>/dev/null &
    dump=$!
    sleep 1
    openssl s_server -accept "127.0.0.1:$port" -cert "$work/cert.pem" -key "$work/key.pem" \
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
