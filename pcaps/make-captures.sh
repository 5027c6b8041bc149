#!/usr/bin/env bash
# make-captures.sh - regenerate the fluxaudit reference captures.
#
# Real implementations (OpenSSL s_client/s_server, curl, python3 http.server,
# dnsmasq, dig) talk across Linux network namespaces that this script creates;
# tcpdump records the medical device's own interface (what a switch mirror of
# the device's port would show). Every veth pair has both ends inside the
# namespaces created here: nothing is connected to the host's network.
#
# Usage: pcaps/make-captures.sh [OUTPUT_DIR]        (as root; default: pcaps/)
#
# Topology (see README.md):
#
#   fxa-dev  eth0 10.10.1.20/16  02:00:0a:0a:01:14  (infusion-gw-1, captured)
#      |
#   fxa-sw   br0 (plain L2 bridge, STP off)
#      |                                   \
#   fxa-srv  eth0 02:00:0a:0a:02:07         fxa-rtr lan0 10.10.0.1/16 02:00:0a:0a:00:01
#            10.10.2.5 pacs                         wan0 198.51.100.1/24, 203.0.113.1/24
#            10.10.2.7 intranet web (80, 8443)           02:00:c6:33:64:01
#            10.10.2.9 undeclared web (8080)             |
#            10.10.0.53 dns (dnsmasq)           fxa-inet eth0 02:00:c6:33:64:0a
#                                                     198.51.100.10 vendor cloud (443)
#                                                     203.0.113.50  Internet client
#                                                     203.0.113.80  undeclared cloud (443)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
OUT=${1:-$HERE}
readonly CERTS=$HERE/certs

readonly NS_DEV=fxa-dev NS_SRV=fxa-srv NS_RTR=fxa-rtr NS_INET=fxa-inet NS_SW=fxa-sw
readonly ALL_NS=("$NS_SW" "$NS_DEV" "$NS_SRV" "$NS_RTR" "$NS_INET")

readonly DEV_IP=10.10.1.20 DEV_MAC=02:00:0a:0a:01:14
readonly PACS_IP=10.10.2.5 WEB_IP=10.10.2.7 OTHER_IP=10.10.2.9 DNS_IP=10.10.0.53
readonly GW_IP=10.10.0.1
readonly CLOUD_IP=198.51.100.10 INET_CLIENT_IP=203.0.113.50 ROGUE_IP=203.0.113.80
readonly WAN_GW=198.51.100.1

# Captures in the order they are made; reference.pcap merges them all.
readonly CAPTURES=(dns tls12 tls13 tls10 tls-client13-server10 http http-basic-auth
    undeclared inbound-public internet-outbound internet-undeclared)

WORK=
CREATED_NS=()
BG_PIDS=()
LAST_PID=
CAP_PID=

log() { printf '[make-captures] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Kills what this script started (by pid), then deletes its namespaces, which
# also deletes every veth and the bridge inside them.
cleanup() {
    local rc=$? pid ns
    set +e
    trap - EXIT INT TERM
    for pid in "${BG_PIDS[@]}" ${CAP_PID:+"$CAP_PID"}; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${BG_PIDS[@]}" ${CAP_PID:+"$CAP_PID"}; do
        wait "$pid" 2>/dev/null
    done
    for ns in "${CREATED_NS[@]}"; do
        ip netns del "$ns" 2>/dev/null || log "warning: could not delete namespace $ns"
    done
    [[ -n $WORK && -d $WORK ]] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_environment() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, tcpdump)"
    local missing=() entry tool pkg
    for entry in ip:iproute2 ss:iproute2 tcpdump:tcpdump openssl:openssl curl:curl \
        dig:bind9-dnsutils dnsmasq:dnsmasq-base python3:python3 mergecap:wireshark-common \
        mkfifo:coreutils ethtool:ethtool; do
        tool=${entry%%:*}
        pkg=${entry#*:}
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (Debian package $pkg)")
    done
    if ((${#missing[@]})); then
        die "missing tools: ${missing[*]}"
    fi
    command -v tshark >/dev/null 2>&1 ||
        log "note: tshark (Debian package tshark) absent: TLS versions will not be checked"
}

# ---------------------------------------------------------------- processes

# Starts "$@" in namespace $1 in the background, output to $WORK/$2.log;
# its pid is left in LAST_PID (ip netns exec execs the command: same pid).
start_bg() {
    local ns=$1 name=$2
    shift 2
    ip netns exec "$ns" "$@" </dev/null >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# Drops a reaped pid from the list cleanup() kills: once waited for, the pid
# may belong to another process.
forget_bg() {
    local pid=$1 kept=() p
    for p in "${BG_PIDS[@]}"; do
        [[ $p == "$pid" ]] || kept+=("$p")
    done
    BG_PIDS=("${kept[@]}")
}

# Stops a background process started by start_bg (if still running).
stop_bg() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_bg "$1"
}

# Waits for a background process that ends by itself; fails if it does not
# end within $2 seconds or ends with an error.
wait_bg() {
    local pid=$1 limit=$2 i rc=0
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "process $pid still running after ${limit}s"
    wait "$pid" || rc=$?
    forget_bg "$pid"
    return "$rc"
}

# Waits until something listens on $3:$4 ($2 = tcp|udp) in namespace $1.
wait_listen() {
    local ns=$1 proto=$2 addr=$3 port=$4 flag=t i
    [[ $proto == udp ]] && flag=u
    for ((i = 0; i < 100; i++)); do
        if ip netns exec "$ns" ss -Hln$flag "sport = :$port" | grep -q "$addr:$port"; then
            return 0
        fi
        sleep 0.1
    done
    die "nothing listens on $proto $addr:$port in $ns"
}

# Waits until file $1 contains the fixed string $2 (at most $3 seconds).
wait_for_text() {
    local file=$1 text=$2 limit=$3 i
    for ((i = 0; i < limit * 10; i++)); do
        grep -qF -- "$text" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- topology

add_ns() {
    local ns=$1
    if ip netns list | grep -qw -- "$ns"; then
        # Left over by an interrupted run of this script (the name is ours).
        log "removing stale namespace $ns"
        ip netns del "$ns"
    fi
    ip netns add "$ns"
    CREATED_NS+=("$ns")
    # No IPv6: keeps router solicitations and MLD reports out of the captures.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
}

# Creates a veth pair: $1/$2 (name, MAC) in namespace $3 and $4/$5 in $6.
add_veth() {
    ip -n "$3" link add "$1" address "$2" type veth peer name "$4" address "$5" netns "$6"
    # No segmentation offloads: frames on the wire of a real switch port
    # never exceed the MTU, and tcpreplay cannot send larger ones.
    ip netns exec "$3" ethtool -K "$1" tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$6" ethtool -K "$4" tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$3" link set "$1" up
    ip -n "$6" link set "$4" up
}

build_topology() {
    local ns
    for ns in "${ALL_NS[@]}"; do
        add_ns "$ns"
    done

    # The access switch: a bridge with one port per LAN host.
    # No multicast snooping: a snooping bridge joins 224.0.0.106 (RFC 4286)
    # and its IGMP reports from 0.0.0.0 would land in the first capture.
    ip -n "$NS_SW" link add br0 address 02:00:00:00:ff:00 type bridge stp_state 0 \
        mcast_snooping 0
    ip -n "$NS_SW" link set br0 up
    add_veth p-dev 02:00:00:00:ff:01 "$NS_SW" eth0 "$DEV_MAC" "$NS_DEV"
    add_veth p-srv 02:00:00:00:ff:02 "$NS_SW" eth0 02:00:0a:0a:02:07 "$NS_SRV"
    add_veth p-rtr 02:00:00:00:ff:03 "$NS_SW" lan0 02:00:0a:0a:00:01 "$NS_RTR"
    for ns in p-dev p-srv p-rtr; do
        ip -n "$NS_SW" link set "$ns" master br0
    done
    # The site router towards the "Internet" (documentation ranges). No NAT:
    # the mirror port sees the public peers' real addresses either way.
    add_veth wan0 02:00:c6:33:64:01 "$NS_RTR" eth0 02:00:c6:33:64:0a "$NS_INET"

    ip -n "$NS_DEV" addr add "$DEV_IP/16" dev eth0
    ip -n "$NS_DEV" route add default via "$GW_IP"

    for ns in "$PACS_IP" "$WEB_IP" "$OTHER_IP" "$DNS_IP"; do
        ip -n "$NS_SRV" addr add "$ns/16" dev eth0
    done
    ip -n "$NS_SRV" route add default via "$GW_IP"

    ip -n "$NS_RTR" addr add "$GW_IP/16" dev lan0
    ip -n "$NS_RTR" addr add "$WAN_GW/24" dev wan0
    ip -n "$NS_RTR" addr add 203.0.113.1/24 dev wan0
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 \
        net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.lan0.send_redirects=0

    for ns in "$CLOUD_IP/24" "$INET_CLIENT_IP/24" "$ROGUE_IP/24"; do
        ip -n "$NS_INET" addr add "$ns" dev eth0
    done
    ip -n "$NS_INET" route add 10.10.0.0/16 via "$WAN_GW"
}

# Forgets every ARP entry so each capture starts with the device's ARP
# exchange: every file has the same shape whatever ran before it.
flush_neighbours() {
    local ns
    for ns in "$NS_DEV" "$NS_SRV" "$NS_RTR" "$NS_INET"; do
        ip -n "$ns" neigh flush all
    done
}

# ---------------------------------------------------------------- certificates

# Test-only PKI: a CA and one leaf per TLS server (RSA 2048, SHA-256, 390
# days: under nDPI's 395-day "validity too long" threshold). Regenerated when
# missing or expiring within 30 days.
make_leaf() {
    local name=$1 san=$2
    openssl req -new -newkey rsa:2048 -nodes -keyout "$CERTS/$name.key" \
        -subj "/O=fluxaudit TEST ONLY/CN=${san%%,*}" -out "$WORK/$name.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:${san//,/,DNS:}" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$WORK/$name.ext"
    openssl x509 -req -in "$WORK/$name.csr" -CA "$CERTS/test-ca.crt" \
        -CAkey "$CERTS/test-ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 390 \
        -sha256 -extfile "$WORK/$name.ext" -out "$CERTS/$name.crt" 2>/dev/null
}

ensure_certs() {
    local f fresh=1
    for f in test-ca web cloud rogue; do
        if [[ ! -s $CERTS/$f.crt || ! -s $CERTS/$f.key ]] ||
            ! openssl x509 -checkend 2592000 -noout -in "$CERTS/$f.crt" >/dev/null; then
            fresh=0
        fi
    done
    ((fresh)) && return 0
    log "generating test-only certificates in $CERTS"
    mkdir -p "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$CERTS/test-ca.key" -out "$CERTS/test-ca.crt" \
        -subj "/O=fluxaudit TEST ONLY/CN=fluxaudit Test Hospital CA (TEST ONLY)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    make_leaf web web.hopital.example
    make_leaf cloud upload.vendor.example
    make_leaf rogue telemetry.analytics.example
}

# ---------------------------------------------------------------- capture

start_capture() {
    local name=$1 i
    flush_neighbours
    ip netns exec "$NS_DEV" tcpdump -i eth0 -nn -U --immediate-mode -s 0 -Z root -w "$WORK/$name.pcap" \
        </dev/null >"$WORK/$name.tcpdump.log" 2>&1 &
    CAP_PID=$!
    wait_for_text "$WORK/$name.tcpdump.log" "listening on" 10 ||
        die "tcpdump did not start: $(cat "$WORK/$name.tcpdump.log")"
}

stop_capture() {
    local name=$1
    # Lets the last ACKs of a clean TCP close reach the wire.
    sleep 0.5
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || die "tcpdump failed for $name"
    CAP_PID=
    # Immediate mode hands every packet to tcpdump at once (with TPACKET_V3
    # buffering, packets still in the ring at SIGINT would be lost).
    local captured received
    captured=$(awk '/packets captured/ { print $1 }' "$WORK/$name.tcpdump.log")
    received=$(awk '/packets received by filter/ { print $1 }' "$WORK/$name.tcpdump.log")
    [[ -n $captured && $captured == "$received" && $captured -gt 0 ]] ||
        die "$name: tcpdump captured ${captured:-?} of ${received:-?} packets"
    cp "$WORK/$name.pcap" "$OUT/$name.pcap"
    log "$name.pcap: $captured packets"
}

# ---------------------------------------------------------------- scenarios

reverse() {
    local s=$1 r='' i
    for ((i = ${#s} - 1; i >= 0; i--)); do
        r+=${s:i:1}
    done
    printf '%s' "$r"
}

# Runs an OpenSSL TLS server (one connection, echoes each line reversed).
# $1 namespace, $2 address, $3 port, $4 certificate name, then s_server options.
tls_server() {
    local ns=$1 addr=$2 port=$3 cert=$4
    shift 4
    start_bg "$ns" "s_server-$port" openssl s_server -accept "$addr:$port" -naccept 1 -rev \
        -cert "$CERTS/$cert.crt" -key "$CERTS/$cert.key" "$@"
    wait_listen "$ns" tcp "$addr" "$port"
}

# The device sends one line over TLS, waits for the server's answer, then
# closes (close_notify both ways, then FIN). $1 server address, $2 port,
# $3 SNI, $4 fixed client port, then s_client options.
tls_client() {
    local addr=$1 port=$2 sni=$3 cport=$4 line="STATUS infusion-gw-1 pump-bay-4 OK"
    local fifo=$WORK/s_client.in out=$WORK/s_client.out pid
    shift 4
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$out"
    ip netns exec "$NS_DEV" openssl s_client -connect "$addr:$port" -bind "$DEV_IP:$cport" \
        -servername "$sni" -verify_hostname "$sni" -CAfile "$CERTS/test-ca.crt" \
        -verify_return_error "$@" <"$fifo" >"$out" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    exec 3>"$fifo"
    printf '%s\n' "$line" >&3
    if ! wait_for_text "$out" "$(reverse "$line")" 10; then
        exec 3>&-
        die "no TLS answer from $addr:$port: $(tail -n 5 "$out")"
    fi
    exec 3>&- # EOF on stdin: s_client sends close_notify and closes
    wait_bg "$pid" 10 || die "s_client to $addr:$port failed: $(tail -n 5 "$out")"
    grep -E '^(New|    Protocol|    Cipher)' "$out" | head -3 | sed 's/^ */    /' >&2 || true
}

# $1 name, $2 s_client options (word-split), then s_server options.
scenario_tls() {
    local name=$1 cport=$2 client_opts=$3
    shift 3
    tls_server "$NS_SRV" "$WEB_IP" 8443 web "$@"
    start_capture "$name"
    # shellcheck disable=SC2086 # client_opts is a list of options
    tls_client "$WEB_IP" 8443 web.hopital.example "$cport" $client_opts
    stop_capture "$name"
    wait_bg "$LAST_PID" 10 || die "s_server failed in $name: $(cat "$WORK/s_server-8443.log")"
}

scenario_dns() {
    local pid
    start_bg "$NS_SRV" dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --no-resolv --no-hosts --no-poll --bind-interfaces --listen-address="$DNS_IP" \
        --user=nobody --group=nogroup --pid-file= --log-facility=- \
        --host-record=pacs.hopital.example,"$PACS_IP" \
        --host-record=web.hopital.example,"$WEB_IP"
    pid=$LAST_PID
    wait_listen "$NS_SRV" udp "$DNS_IP" 53
    start_capture dns
    ip netns exec "$NS_DEV" dig -b "$DEV_IP#40053" @"$DNS_IP" pacs.hopital.example A \
        +tries=1 +time=3 >"$WORK/dig.out"
    grep -q "pacs.hopital.example.*IN.*A.*$PACS_IP" "$WORK/dig.out" ||
        die "DNS answer missing: $(cat "$WORK/dig.out")"
    stop_capture dns
    stop_bg "$pid"
}

# HTTP GET from the device ($1 capture, $2 server address, $3 port, $4 Host,
# $5 fixed client port, $6 path, then curl options).
http_get() {
    local addr=$1 port=$2 host=$3 cport=$4 path=$5
    shift 5
    ip netns exec "$NS_DEV" curl -sS --fail --max-time 10 --local-port "$cport" \
        --resolve "$host:$port:$addr" -o "$WORK/curl.out" "$@" "http://$host:$port$path"
}

scenario_http() {
    local pid
    mkdir -p "$WORK/www/druglib" "$WORK/www/admin"
    printf '{"library":"ICU-2025-11","entries":412,"sha256":"%s"}\n' \
        "$(printf 'druglib' | openssl dgst -sha256 -r | cut -d' ' -f1)" \
        >"$WORK/www/druglib/manifest.json"
    printf '{"ward":"ICU","pumps":8}\n' >"$WORK/www/admin/config.json"
    start_bg "$NS_SRV" http-web python3 -m http.server 80 --bind "$WEB_IP" \
        --directory "$WORK/www"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$WEB_IP" 80

    start_capture http
    http_get "$WEB_IP" 80 web.hopital.example 41080 /druglib/manifest.json
    stop_capture http

    # A well-known factory default (admin/admin) in HTTP Basic over cleartext:
    # test data for CLEARTEXT_CREDENTIALS / DEFAULT_CREDENTIALS, not a secret.
    start_capture http-basic-auth
    http_get "$WEB_IP" 80 web.hopital.example 41081 /admin/config.json -u admin:admin
    stop_capture http-basic-auth
    stop_bg "$pid"
}

scenario_undeclared() {
    local pid
    mkdir -p "$WORK/www-other"
    printf 'pong\n' >"$WORK/www-other/ping.txt"
    start_bg "$NS_SRV" http-other python3 -m http.server 8080 --bind "$OTHER_IP" \
        --directory "$WORK/www-other"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$OTHER_IP" 8080
    start_capture undeclared
    http_get "$OTHER_IP" 8080 nas.hopital.example 41082 /ping.txt
    stop_capture undeclared
    stop_bg "$pid"
}

scenario_inbound_public() {
    local pid
    mkdir -p "$WORK/www-dev"
    printf '<html><body>infusion-gw-1 status: OK</body></html>\n' >"$WORK/www-dev/index.html"
    start_bg "$NS_DEV" http-dev python3 -m http.server 8080 --bind "$DEV_IP" \
        --directory "$WORK/www-dev"
    pid=$LAST_PID
    wait_listen "$NS_DEV" tcp "$DEV_IP" 8080
    start_capture inbound-public
    ip netns exec "$NS_INET" curl -sS --fail --max-time 10 --interface "$INET_CLIENT_IP" \
        --local-port 51515 -o "$WORK/curl.out" "http://$DEV_IP:8080/"
    stop_capture inbound-public
    stop_bg "$pid"
}

scenario_internet() {
    tls_server "$NS_INET" "$CLOUD_IP" 443 cloud -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
    start_capture internet-outbound
    tls_client "$CLOUD_IP" 443 upload.vendor.example 41443
    stop_capture internet-outbound
    wait_bg "$LAST_PID" 10 || die "cloud s_server failed"

    tls_server "$NS_INET" "$ROGUE_IP" 443 rogue
    start_capture internet-undeclared
    tls_client "$ROGUE_IP" 443 telemetry.analytics.example 41444
    stop_capture internet-undeclared
    wait_bg "$LAST_PID" 10 || die "rogue s_server failed"
}

# ---------------------------------------------------------------- checks

# With tshark: the ServerHello of $1 must carry version $2 (as tshark prints
# the selected version: supported_versions when present, else the legacy one).
check_tls() {
    local name=$1 want=$2 got
    command -v tshark >/dev/null 2>&1 || return 0
    got=$(tshark -r "$OUT/$name.pcap" -d tcp.port==8443,tls -Y 'tls.handshake.type == 2' \
        -T fields -e tls.handshake.extensions.supported_version -e tls.handshake.version \
        2>/dev/null | awk -F'\t' '{ print ($1 != "" ? $1 : $2) }')
    [[ $got == "$want" ]] || die "$name: ServerHello version $got, expected $want"
    log "$name.pcap: ServerHello version $got (checked)"
}

# With tshark: the ClientHello of $1 must offer version $2 in supported_versions.
check_offered() {
    local name=$1 want=$2 got
    command -v tshark >/dev/null 2>&1 || return 0
    got=$(tshark -r "$OUT/$name.pcap" -d tcp.port==8443,tls -Y 'tls.handshake.type == 1' \
        -T fields -e tls.handshake.extensions.supported_version 2>/dev/null)
    [[ ,$got, == *",$want,"* ]] || die "$name: ClientHello offers '$got', not $want"
    log "$name.pcap: ClientHello offers $got (checked)"
}

main() {
    check_environment
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    WORK=$(mktemp -d /tmp/fxa-captures.XXXXXX)
    ensure_certs
    build_topology

    scenario_dns
    scenario_tls tls12 41012 "-tls1_2" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
    scenario_tls tls13 41013 ""
    scenario_tls tls10 41010 "-tls1 -cipher DEFAULT@SECLEVEL=0" -tls1 -cipher DEFAULT@SECLEVEL=0
    scenario_tls tls-client13-server10 41030 "-cipher DEFAULT@SECLEVEL=0" \
        -tls1 -cipher DEFAULT@SECLEVEL=0
    scenario_http
    scenario_undeclared
    scenario_inbound_public
    scenario_internet

    local files=() c
    for c in "${CAPTURES[@]}"; do
        files+=("$OUT/$c.pcap")
    done
    mergecap -F pcap -w "$OUT/reference.pcap" "${files[@]}"
    log "reference.pcap: merged ${#files[@]} captures"

    check_tls tls12 0x0303
    check_tls tls13 0x0304
    check_tls tls10 0x0301
    check_tls tls-client13-server10 0x0301
    check_tls internet-outbound 0x0303
    check_tls internet-undeclared 0x0304
    check_offered tls-client13-server10 0x0304
    log "done: captures in $OUT"
}

main "$@"
