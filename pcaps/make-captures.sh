#!/usr/bin/env bash
# make-captures.sh - regenerate the fluxaudit reference captures.
#
# Real implementations (OpenSSL s_client/s_server, curl, python3 http.server,
# dnsmasq, dig) talk across Linux network namespaces that this script creates;
# tcpdump records the medical device's own interface (what a switch mirror of
# the device's port would show). Every veth pair has both ends inside the
# namespaces created here: nothing is connected to the host's network.
#
# Usage: pcaps/make-captures.sh [--only reference|crypto|health] [OUTPUT_DIR]
#        (as root; default: all three sets, into pcaps/)
#
# Three sets of captures: "reference" (reference.pcap and its parts, matrix
# reference-matrix.json), "crypto" (obsolete TLS, weak suites and
# certificates, cleartext logins of FTP, SNMP, LDAP, POP3, IMAP, SMTP, Telnet
# and HTTP: crypto.pcap and its parts, matrix crypto-matrix.json) and
# "health" (DICOM in clear and over TLS with dcmtk, HL7 v2 over MLLP, FHIR
# over HTTP, RADIUS/EAP with freeradius and eapol_test: health.pcap and its
# parts; crafted 802.11 frames: wifi.pcap and its parts; matrix
# health-matrix.json). `--only SET` regenerates that set and leaves every
# file of the others untouched.
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
#            crypto set: 10.10.2.21 ftp, .23 telnet,
#            .25 mail (pop3 110, imap 143, smtp 587), .61 snmp agent,
#            .89 ldap, .31-.38 TLS lab (443)
#            health set: 10.10.2.5 pacs (DICOM 11112, DICOM TLS 2762),
#            .40 HL7 engine (MLLP 2575), .41 FHIR server (8080),
#            .50 RADIUS (udp 1812); fxa-nas 10.10.0.2 (Wi-Fi access point,
#            802.1X authenticator: eapol_test) on the switch as well
#                                                     198.51.100.10 vendor cloud (443)
#                                                     203.0.113.50  Internet client
#                                                     203.0.113.80  undeclared cloud (443)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
OUT=$HERE
ONLY=all
readonly CERTS=$HERE/certs

readonly NS_DEV=fxa-dev NS_SRV=fxa-srv NS_RTR=fxa-rtr NS_INET=fxa-inet NS_SW=fxa-sw
readonly ALL_NS=("$NS_SW" "$NS_DEV" "$NS_SRV" "$NS_RTR" "$NS_INET")

readonly DEV_IP=10.10.1.20 DEV_MAC=02:00:0a:0a:01:14
readonly PACS_IP=10.10.2.5 WEB_IP=10.10.2.7 OTHER_IP=10.10.2.9 DNS_IP=10.10.0.53
readonly GW_IP=10.10.0.1
readonly CLOUD_IP=198.51.100.10 INET_CLIENT_IP=203.0.113.50 ROGUE_IP=203.0.113.80
readonly WAN_GW=198.51.100.1
# Crypto set: one address per server (and per TLS lab scenario), so that each
# capture is its own aggregated finding in crypto.pcap.
readonly FTP_IP=10.10.2.21 TELNET_IP=10.10.2.23 MAIL_IP=10.10.2.25 SNMP_IP=10.10.2.61
readonly LDAP_IP=10.10.2.89
readonly LAB_TLS11_IP=10.10.2.31 LAB_3DES_IP=10.10.2.32 LAB_NULL_IP=10.10.2.33
readonly LAB_ANON_IP=10.10.2.34 LAB_RSA1024_IP=10.10.2.35 LAB_SHA1_IP=10.10.2.36
readonly LAB_SELFSIGNED_IP=10.10.2.37 LAB_EXPIRED_IP=10.10.2.38
readonly CRYPTO_SRV_IPS=("$FTP_IP" "$TELNET_IP" "$MAIL_IP" "$SNMP_IP" "$LDAP_IP"
    "$LAB_TLS11_IP" "$LAB_3DES_IP" "$LAB_NULL_IP" "$LAB_ANON_IP" "$LAB_RSA1024_IP"
    "$LAB_SHA1_IP" "$LAB_SELFSIGNED_IP" "$LAB_EXPIRED_IP")
# Debian's own interpreter: it sees the python3-* packages (pyftpdlib,
# aiosmtpd), whatever python3 comes first in PATH.
readonly DEB_PYTHON=/usr/bin/python3
# Health set: servers on fxa-srv (the PACS is the reference set's 10.10.2.5),
# and the 802.1X authenticator (a Wi-Fi access point) in a namespace of its
# own, made only for this set.
readonly HL7_IP=10.10.2.40 FHIR_IP=10.10.2.41 RADIUS_IP=10.10.2.50
readonly HEALTH_SRV_IPS=("$HL7_IP" "$FHIR_IP" "$RADIUS_IP")
readonly NS_NAS=fxa-nas NAS_IP=10.10.0.2 NAS_MAC=02:00:0a:0a:00:02
readonly DICOM_AET=INFUSIONGW1 PACS_AET=PACS_MAIN
# The device's default ephemeral port range, restored after a fixed-port client.
readonly DEV_PORT_RANGE="32768 60999"

# Planted secrets of the crypto set: distinctive test values ("planted") that
# the tests assert never appear in any output. Listed in README.md.
readonly PLANTED_HTTP_USER=biomed PLANTED_HTTP_PASS=Xq7-planted-Secret
readonly PLANTED_FTP_USER=pumplogs PLANTED_FTP_PASS=ftp-planted-Kt4w9
readonly PLANTED_FTP_WRONG_PASS=ftp-planted-wrong-Zr83
readonly PLANTED_COMMUNITY=h0sp-planted-community
readonly LDAP_BASE=dc=hopital,dc=example
readonly PLANTED_LDAP_DN=cn=admin,$LDAP_BASE PLANTED_LDAP_PASS=ldap-planted-Vb8q2
readonly PLANTED_POP3_USER=biomed-pop PLANTED_POP3_PASS=pop3-planted-Hj2m6
readonly PLANTED_IMAP_USER=biomed-imap PLANTED_IMAP_PASS=imap-planted-Nc5t1
readonly PLANTED_SMTP_USER=biomed-smtp PLANTED_SMTP_PASS=smtp-planted-Rw5e7
readonly PLANTED_TELNET_USER=biomed PLANTED_TELNET_PASS=telnet-planted-Lp3x4

# Planted patient data and secrets of the health set (fictitious, listed in
# README.md): the tests assert that none of them appears in any output.
readonly PLANTED_PATIENT_NAME='PLANTED^PATIENT^NAME' PLANTED_PATIENT_ID=PLANTED-ID-0042
readonly PLANTED_STUDY='planted study'
readonly PLANTED_MRN=PLANTED-MRN-7781 PLANTED_HL7_NAME='PLANTEDSURNAME^PLANTEDGIVEN'
readonly PLANTED_OBX=planted-result-5.5
readonly PLANTED_FHIR_FAMILY=PLANTEDFHIRFAMILY PLANTED_FHIR_GIVEN=PLANTEDFHIRGIVEN
readonly PLANTED_FHIR_VALUE=planted-fhir-value-140
readonly PLANTED_RADIUS_SECRET=radius-planted-secret PLANTED_EAP_PASS=eap-planted-password
readonly PLANTED_WIFI_MD5_PASS=eap-planted-wifi-md5
readonly EAP_USER=infusion-gw-1

# Captures in the order they are made; reference.pcap merges them all.
readonly CAPTURES=(dns tls12 tls13 tls10 tls-client13-server10 http http-basic-auth
    undeclared inbound-public internet-outbound internet-undeclared)
# The crypto set, in the order it is made; crypto.pcap merges them all.
readonly CRYPTO_CAPTURES=(tls11 tls12-3des tls12-null tls12-anon cert-rsa1024 cert-sha1
    cert-selfsigned cert-expired http-basic-auth-nondefault ftp-login ftp-refused snmp-public
    snmp-nondefault ldap-bind pop3-login imap-login smtp-auth telnet-login)
# The health set: real implementations, Ethernet (health.pcap merges them),
# then crafted 802.11 frames, radiotap (wifi.pcap merges them: one pcap file
# holds one link type).
readonly HEALTH_CAPTURES=(dicom-store dicom-echo dicom-tls hl7-mllp fhir-http radius-eap-md5
    radius-peap)
readonly WIFI_CAPTURES=(wifi-beacons wifi-open-assoc wifi-psk-assoc wifi-eap-md5)

WORK=
CREATED_NS=()
BG_PIDS=()
LAST_PID=
CAP_PID=

log() { printf '[make-captures] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when set $1 (reference, crypto, health) is to be made.
want() { [[ $ONLY == all || $ONLY == "$1" ]]; }

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
        python3:python3 mergecap:wireshark-common mkfifo:coreutils ethtool:ethtool; do
        tool=${entry%%:*}
        pkg=${entry#*:}
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (Debian package $pkg)")
    done
    if want reference; then
        for entry in dig:bind9-dnsutils dnsmasq:dnsmasq-base; do
            tool=${entry%%:*}
            pkg=${entry#*:}
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (Debian package $pkg)")
        done
    fi
    if want crypto; then
        for entry in gnutls-serv:gnutls-bin gnutls-cli:gnutls-bin slapd:slapd slapadd:slapd \
            ldapsearch:ldap-utils dovecot:dovecot-core snmpd:snmpd snmpget:snmp \
            telnet:telnet expect:expect inetutils-inetd:inetutils-inetd \
            /usr/sbin/telnetd:inetutils-telnetd /usr/lib/dovecot/pop3:dovecot-pop3d \
            /usr/lib/dovecot/imap:dovecot-imapd "$DEB_PYTHON":python3; do
            tool=${entry%%:*}
            pkg=${entry#*:}
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (Debian package $pkg)")
        done
        for entry in pyftpdlib:python3-pyftpdlib aiosmtpd:python3-aiosmtpd; do
            tool=${entry%%:*}
            pkg=${entry#*:}
            "$DEB_PYTHON" -c "import $tool" >/dev/null 2>&1 ||
                missing+=("python module $tool (Debian package $pkg)")
        done
    fi
    if want health; then
        for entry in storescu:dcmtk storescp:dcmtk echoscu:dcmtk dump2dcm:dcmtk \
            mllp_send:python3-hl7 freeradius:freeradius eapol_test:eapoltest \
            "$DEB_PYTHON":python3; do
            tool=${entry%%:*}
            pkg=${entry#*:}
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (Debian package $pkg)")
        done
        [[ -d /etc/freeradius/3.0 ]] ||
            missing+=("/etc/freeradius/3.0 (Debian package freeradius-config)")
        for entry in hl7:python3-hl7 scapy:python3-scapy; do
            tool=${entry%%:*}
            pkg=${entry#*:}
            "$DEB_PYTHON" -c "import $tool" >/dev/null 2>&1 ||
                missing+=("python module $tool (Debian package $pkg)")
        done
    fi
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
    if want crypto; then
        for ns in "${CRYPTO_SRV_IPS[@]}"; do
            ip -n "$NS_SRV" addr add "$ns/16" dev eth0
        done
    fi
    if want health; then
        for ns in "${HEALTH_SRV_IPS[@]}"; do
            ip -n "$NS_SRV" addr add "$ns/16" dev eth0
        done
    fi
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
    if [[ -e /run/netns/$NS_NAS ]]; then
        ip -n "$NS_NAS" neigh flush all
    fi
}

# ---------------------------------------------------------------- certificates

# Test-only PKI: a CA and one leaf per TLS server (RSA 2048, SHA-256, 390
# days: under nDPI's 395-day "validity too long" threshold). Regenerated when
# missing or expiring within 30 days.
# $1 file name, $2 DNS names (comma-separated), optional $3 RSA bits (2048)
# and $4 signature digest (sha256): the crypto set's weak leaves use them.
make_leaf() {
    local name=$1 san=$2 bits=${3:-2048} digest=${4:-sha256}
    openssl req -new -newkey "rsa:$bits" -nodes -keyout "$CERTS/$name.key" \
        -subj "/O=fluxaudit TEST ONLY/CN=${san%%,*}" -out "$WORK/$name.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:${san//,/,DNS:}" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$WORK/$name.ext"
    openssl x509 -req -in "$WORK/$name.csr" -CA "$CERTS/test-ca.crt" \
        -CAkey "$CERTS/test-ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 390 \
        "-$digest" -extfile "$WORK/$name.ext" -out "$CERTS/$name.crt" 2>/dev/null
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

# The crypto set's certificates (test-only, see certs/README.md): a sound
# leaf for the TLS lab, then one weakness each. All RSA 2048 / SHA-256 /
# CA-issued / 390 days unless the name says otherwise.
make_expired_leaf() {
    local name=$1 san=$2 ca=$WORK/expired-ca
    mkdir -p "$ca"
    : >"$ca/index.txt"
    printf '%s\n' '[ ca ]' 'default_ca = test_ca' '[ test_ca ]' "database = $ca/index.txt" \
        "new_certs_dir = $ca" 'rand_serial = yes' 'default_md = sha256' \
        'policy = policy_any' 'unique_subject = no' '[ policy_any ]' \
        'organizationName = optional' 'commonName = supplied' >"$ca/ca.cnf"
    openssl req -new -newkey rsa:2048 -nodes -keyout "$CERTS/$name.key" \
        -subj "/O=fluxaudit TEST ONLY/CN=$san" -out "$WORK/$name.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:$san" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$WORK/$name.ext"
    # Valid for the whole of 2024 only: expired at any capture time since.
    openssl ca -batch -notext -config "$ca/ca.cnf" -cert "$CERTS/test-ca.crt" \
        -keyfile "$CERTS/test-ca.key" -startdate 20240101000000Z -enddate 20241231235959Z \
        -extfile "$WORK/$name.ext" -in "$WORK/$name.csr" -out "$CERTS/$name.crt" 2>/dev/null
}

make_selfsigned_leaf() {
    local name=$1 san=$2
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 390 \
        -keyout "$CERTS/$name.key" -out "$CERTS/$name.crt" \
        -subj "/O=fluxaudit TEST ONLY/CN=$san" -addext "subjectAltName=DNS:$san" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
        -addext "extendedKeyUsage=serverAuth" 2>/dev/null
}

# True when certificate $1 must be made again: missing, not issued by the
# current test CA (ensure_certs may have renewed it), or (unless $2 is
# "expired") expiring within 30 days.
crypto_cert_stale() {
    local f=$1 kind=${2:-} ca=$CERTS/test-ca.crt
    [[ -s $CERTS/$f.crt && -s $CERTS/$f.key ]] || return 0
    [[ $kind == selfsigned ]] && ca=$CERTS/$f.crt
    openssl verify -no_check_time -auth_level 0 -CAfile "$ca" "$CERTS/$f.crt" >/dev/null 2>&1 ||
        return 0
    [[ $kind == expired ]] && return 1
    ! openssl x509 -checkend 2592000 -noout -in "$CERTS/$f.crt" >/dev/null
}

ensure_crypto_certs() {
    if crypto_cert_stale lab; then
        log "generating test-only certificate lab"
        make_leaf lab '*.lab.hopital.example'
    fi
    if crypto_cert_stale weak-rsa1024; then
        log "generating test-only certificate weak-rsa1024 (RSA 1024)"
        make_leaf weak-rsa1024 rsa1024.lab.hopital.example 1024
    fi
    if crypto_cert_stale weak-sha1; then
        log "generating test-only certificate weak-sha1 (SHA-1 signature)"
        make_leaf weak-sha1 sha1.lab.hopital.example 2048 sha1
    fi
    if crypto_cert_stale selfsigned selfsigned; then
        log "generating test-only certificate selfsigned"
        make_selfsigned_leaf selfsigned selfsigned.lab.hopital.example
    fi
    if crypto_cert_stale expired expired; then
        log "generating test-only certificate expired (valid in 2024 only)"
        make_expired_leaf expired expired.lab.hopital.example
    fi
}

# ---------------------------------------------------------------- capture

# Starts tcpdump for capture $1 on the device's interface, or on interface
# $3 of namespace $2 (the health set's RADIUS captures: the server's port).
start_capture() {
    local name=$1 ns=${2:-$NS_DEV} iface=${3:-eth0}
    flush_neighbours
    ip netns exec "$ns" tcpdump -i "$iface" -nn -U --immediate-mode -s 0 -Z root \
        -w "$WORK/$name.pcap" </dev/null >"$WORK/$name.tcpdump.log" 2>&1 &
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
# TLS_CLIENT_STRICT=0 lets the handshake go on when the certificate does not
# verify (self-signed, expired), as many devices do.
TLS_CLIENT_STRICT=1
tls_client() {
    local addr=$1 port=$2 sni=$3 cport=$4 line="STATUS infusion-gw-1 pump-bay-4 OK"
    local fifo=$WORK/s_client.in out=$WORK/s_client.out pid strict=-verify_return_error
    ((TLS_CLIENT_STRICT)) || strict=-verify_quiet
    shift 4
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$out"
    ip netns exec "$NS_DEV" openssl s_client -connect "$addr:$port" -bind "$DEV_IP:$cport" \
        -servername "$sni" -verify_hostname "$sni" -CAfile "$CERTS/test-ca.crt" \
        "$strict" "$@" <"$fifo" >"$out" 2>&1 &
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

# ---------------------------------------------------------------- crypto set

# Narrows the device's ephemeral port range to the single port $1, for the
# clients that cannot choose their source port (ldapsearch, snmpget, telnet,
# gnutls-cli): every file keeps the same shape from run to run.
dev_port_pin() {
    ip netns exec "$NS_DEV" sysctl -qw net.ipv4.ip_local_port_range="$1 $1"
}

dev_port_unpin() {
    ip netns exec "$NS_DEV" sysctl -qw net.ipv4.ip_local_port_range="$DEV_PORT_RANGE"
}

# Runs "$@" in the device's namespace from source port $1.
dev_exec_from_port() {
    local port=$1 rc=0
    shift
    dev_port_pin "$port"
    ip netns exec "$NS_DEV" "$@" || rc=$?
    dev_port_unpin
    return "$rc"
}

# One OpenSSL TLS exchange with a lab server: $1 capture, $2 server address,
# $3 SNI, $4 client port, $5 s_client options (word-split), $6 certificate,
# then s_server options. The certificate travels in clear only up to TLS 1.2,
# so the certificate scenarios pin TLS 1.2.
scenario_lab_tls() {
    local name=$1 addr=$2 sni=$3 cport=$4 client_opts=$5 cert=$6
    shift 6
    tls_server "$NS_SRV" "$addr" 443 "$cert" "$@"
    start_capture "$name"
    # shellcheck disable=SC2086 # client_opts is a list of options
    tls_client "$addr" 443 "$sni" "$cport" $client_opts
    stop_capture "$name"
    wait_bg "$LAST_PID" 10 || die "s_server failed in $name: $(cat "$WORK/s_server-443.log")"
}

# TLS_RSA_WITH_3DES_EDE_CBC_SHA: Debian's OpenSSL 3 is built without any
# (3)DES suite, GnuTLS still negotiates it when asked explicitly.
scenario_tls_3des() {
    local prio='NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC:-KX-ALL:+RSA:-MAC-ALL:+SHA1'
    local line="STATUS infusion-gw-1 pump-bay-4 OK" fifo=$WORK/gnutls.in out=$WORK/gnutls.out
    local srv cli
    start_bg "$NS_SRV" gnutls-serv gnutls-serv --echo --port 443 --priority "$prio" \
        --x509certfile "$CERTS/lab.crt" --x509keyfile "$CERTS/lab.key"
    srv=$LAST_PID
    # gnutls-serv has no bind address: it listens on every address of fxa-srv.
    wait_listen "$NS_SRV" tcp 0.0.0.0 443
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$out"
    start_capture tls12-3des
    dev_port_pin 41112
    ip netns exec "$NS_DEV" gnutls-cli --port 443 --priority "$prio" \
        --x509cafile "$CERTS/test-ca.crt" --sni-hostname 3des.lab.hopital.example \
        --verify-hostname 3des.lab.hopital.example "$LAB_3DES_IP" <"$fifo" >"$out" 2>&1 &
    cli=$!
    BG_PIDS+=("$cli")
    exec 3>"$fifo"
    printf '%s\n' "$line" >&3
    if ! wait_for_text "$out" "$line" 10; then
        exec 3>&-
        die "no TLS answer from gnutls-serv: $(tail -n 5 "$out")"
    fi
    exec 3>&- # EOF on stdin: gnutls-cli sends close_notify and closes
    wait_bg "$cli" 10 || die "gnutls-cli failed: $(tail -n 5 "$out")"
    dev_port_unpin
    stop_capture tls12-3des
    stop_bg "$srv"
    grep -E '^- Description' "$out" | sed 's/^/    /' >&2 || true
}

scenario_crypto_tls() {
    local legacy=(-cipher DEFAULT@SECLEVEL=0)
    scenario_lab_tls tls11 "$LAB_TLS11_IP" tls11.lab.hopital.example 41111 \
        "-tls1_1 ${legacy[*]}" lab -tls1_1 "${legacy[@]}"
    scenario_tls_3des
    scenario_lab_tls tls12-null "$LAB_NULL_IP" null.lab.hopital.example 41113 \
        "-tls1_2 -cipher NULL-SHA256@SECLEVEL=0" lab -tls1_2 -cipher NULL-SHA256@SECLEVEL=0
    # Anonymous Diffie-Hellman: no certificate at all (-nocert).
    scenario_lab_tls tls12-anon "$LAB_ANON_IP" anon.lab.hopital.example 41114 \
        "-tls1_2 -cipher aNULL@SECLEVEL=0" lab -tls1_2 -nocert -cipher aNULL@SECLEVEL=0

    scenario_lab_tls cert-rsa1024 "$LAB_RSA1024_IP" rsa1024.lab.hopital.example 41121 \
        "-tls1_2 ${legacy[*]}" weak-rsa1024 -tls1_2 "${legacy[@]}"
    scenario_lab_tls cert-sha1 "$LAB_SHA1_IP" sha1.lab.hopital.example 41122 \
        "-tls1_2 ${legacy[*]}" weak-sha1 -tls1_2 "${legacy[@]}"
    # The device goes on when the certificate does not verify.
    TLS_CLIENT_STRICT=0
    scenario_lab_tls cert-selfsigned "$LAB_SELFSIGNED_IP" selfsigned.lab.hopital.example 41123 \
        "-tls1_2" selfsigned -tls1_2
    scenario_lab_tls cert-expired "$LAB_EXPIRED_IP" expired.lab.hopital.example 41124 \
        "-tls1_2" expired -tls1_2
    TLS_CLIENT_STRICT=1
}

# HTTP Basic with a non-default (planted) password, same server as http.pcap.
scenario_http_planted() {
    local pid
    mkdir -p "$WORK/www/admin"
    printf '{"ward":"ICU","pumps":8}\n' >"$WORK/www/admin/config.json"
    start_bg "$NS_SRV" http-web python3 -m http.server 80 --bind "$WEB_IP" \
        --directory "$WORK/www"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$WEB_IP" 80
    start_capture http-basic-auth-nondefault
    http_get "$WEB_IP" 80 web.hopital.example 41083 /admin/config.json \
        -u "$PLANTED_HTTP_USER:$PLANTED_HTTP_PASS"
    stop_capture http-basic-auth-nondefault
    stop_bg "$pid"
}

# Python stdlib clients (ftplib, poplib, imaplib) from a fixed source port;
# the password comes from FXA_PASSWORD, never from the command line.
write_py_clients() {
    cat >"$WORK/clients.py" <<'PY'
import ftplib, imaplib, os, poplib, socket, sys

kind, host, src, sport, user = sys.argv[1:6]
password = os.environ["FXA_PASSWORD"]
source = (src, int(sport))

def connect(self, timeout):
    return socket.create_connection((self.host, self.port), timeout, source_address=source)

class POP3(poplib.POP3):
    _create_socket = connect

class IMAP4(imaplib.IMAP4):
    _create_socket = connect

if kind == "ftp":
    ftp = ftplib.FTP()
    ftp.connect(host, 21, timeout=10, source_address=source)
    try:
        ftp.login(user, password)
        ftp.pwd()
        ftp.voidcmd("TYPE I")
        print("ftp login accepted, size", ftp.size("pump-bay-4.log"))
    except ftplib.error_perm as err:
        print("ftp login refused", str(err)[:3])
    ftp.quit()
elif kind == "pop3":
    pop = POP3(host, 110, timeout=10)
    pop.user(user)
    reply = pop.pass_(password)
    print("pop3", reply.decode()[:3], "messages", pop.stat()[0])
    pop.quit()
elif kind == "imap":
    imap = IMAP4(host, 143, timeout=10)
    typ, _ = imap.login(user, password)
    imap.select("INBOX", readonly=True)
    print("imap login", typ)
    imap.logout()
PY
}

scenario_ftp() {
    local pid
    mkdir -p "$WORK/ftp"
    printf 'pump-bay-4 infusion log (TEST ONLY)\n' >"$WORK/ftp/pump-bay-4.log"
    start_bg "$NS_SRV" ftpd "$DEB_PYTHON" -m pyftpdlib -i "$FTP_IP" -p 21 -d "$WORK/ftp" \
        -u "$PLANTED_FTP_USER" -P "$PLANTED_FTP_PASS"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$FTP_IP" 21

    # Control connection only (PWD, TYPE, SIZE): no data connection, whose
    # passive port would be a flow of its own.
    start_capture ftp-login
    FXA_PASSWORD=$PLANTED_FTP_PASS ip netns exec "$NS_DEV" "$DEB_PYTHON" "$WORK/clients.py" \
        ftp "$FTP_IP" "$DEV_IP" 41021 "$PLANTED_FTP_USER" >"$WORK/ftp.out" 2>&1 ||
        die "ftp client failed: $(cat "$WORK/ftp.out")"
    grep -q 'ftp login accepted' "$WORK/ftp.out" || die "ftp login: $(cat "$WORK/ftp.out")"
    stop_capture ftp-login

    start_capture ftp-refused
    FXA_PASSWORD=$PLANTED_FTP_WRONG_PASS ip netns exec "$NS_DEV" "$DEB_PYTHON" \
        "$WORK/clients.py" ftp "$FTP_IP" "$DEV_IP" 41022 "$PLANTED_FTP_USER" \
        >"$WORK/ftp.out" 2>&1 || die "ftp client failed: $(cat "$WORK/ftp.out")"
    grep -q 'ftp login refused 530' "$WORK/ftp.out" || die "ftp refusal: $(cat "$WORK/ftp.out")"
    stop_capture ftp-refused
    stop_bg "$pid"
}

# snmpget of sysDescr.0 and sysName.0 ($1 capture, $2 client port, $3 community).
snmp_get() {
    local name=$1 cport=$2 community=$3
    start_capture "$name"
    dev_exec_from_port "$cport" env SNMP_PERSISTENT_DIR="$WORK/snmp-client" MIBS= \
        snmpget -v2c -c "$community" -On -r 0 -t 3 "$SNMP_IP" \
        1.3.6.1.2.1.1.1.0 1.3.6.1.2.1.1.5.0 >"$WORK/snmpget.out" 2>&1 ||
        die "snmpget failed: $(cat "$WORK/snmpget.out")"
    grep -q 'syringe-driver-7' "$WORK/snmpget.out" || die "snmpget: no sysName in the answer"
    stop_capture "$name"
}

scenario_snmp() {
    local pid
    mkdir -p "$WORK/snmp" "$WORK/snmp-client"
    printf '%s\n' "agentAddress udp:$SNMP_IP:161" "rocommunity public $DEV_IP" \
        "rocommunity $PLANTED_COMMUNITY $DEV_IP" 'sysName syringe-driver-7' \
        'sysDescr Acme syringe driver SD-7, firmware 3.2 (TEST ONLY)' \
        'sysLocation Reanimation, local technique 4' 'sysContact biomed (TEST ONLY)' \
        'sysServices 72' >"$WORK/snmp/snmpd.conf"
    chmod 600 "$WORK/snmp/snmpd.conf"
    start_bg "$NS_SRV" snmpd env SNMP_PERSISTENT_DIR="$WORK/snmp" MIBS= \
        snmpd -f -Lo -C -c "$WORK/snmp/snmpd.conf" -p "$WORK/snmp/snmpd.pid"
    pid=$LAST_PID
    wait_listen "$NS_SRV" udp "$SNMP_IP" 161
    # The factory default community (public), then a planted one.
    snmp_get snmp-public 40161 public
    snmp_get snmp-nondefault 40162 "$PLANTED_COMMUNITY"
    stop_bg "$pid"
}

scenario_ldap() {
    local pid dir=$WORK/ldap
    mkdir -p "$dir/db"
    printf '%s\n' 'include /etc/ldap/schema/core.schema' "pidfile $dir/slapd.pid" \
        "argsfile $dir/slapd.args" 'modulepath /usr/lib/ldap' 'moduleload back_mdb' \
        'database mdb' 'maxsize 10485760' "suffix \"$LDAP_BASE\"" \
        "rootdn \"$PLANTED_LDAP_DN\"" "rootpw $PLANTED_LDAP_PASS" "directory $dir/db" \
        >"$dir/slapd.conf"
    chmod 600 "$dir/slapd.conf"
    printf '%s\n' "dn: $LDAP_BASE" 'objectClass: dcObject' 'objectClass: organization' \
        'o: CH Exemple (TEST ONLY)' 'dc: hopital' '' "dn: ou=devices,$LDAP_BASE" \
        'objectClass: organizationalUnit' 'ou: devices' >"$dir/base.ldif"
    slapadd -q -f "$dir/slapd.conf" -l "$dir/base.ldif" >"$WORK/slapadd.log" 2>&1 ||
        die "slapadd failed: $(cat "$WORK/slapadd.log")"
    # -d 0: stay in the foreground (any -d does), log nothing.
    start_bg "$NS_SRV" slapd slapd -d 0 -f "$dir/slapd.conf" -h "ldap://$LDAP_IP:389/"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$LDAP_IP" 389
    start_capture ldap-bind
    dev_exec_from_port 41389 env LDAPNOINIT=1 ldapsearch -x -LLL -H "ldap://$LDAP_IP:389" \
        -D "$PLANTED_LDAP_DN" -w "$PLANTED_LDAP_PASS" -b "$LDAP_BASE" -s one \
        '(objectClass=organizationalUnit)' ou >"$WORK/ldapsearch.out" 2>&1 ||
        die "ldapsearch failed: $(cat "$WORK/ldapsearch.out")"
    grep -q "^dn: ou=devices,$LDAP_BASE" "$WORK/ldapsearch.out" ||
        die "ldapsearch: no entry in the answer"
    stop_capture ldap-bind
    stop_bg "$pid"
}

# Dovecot (POP3 110, IMAP 143), plain text allowed, users in a passwd-file.
scenario_mail() {
    local pid dir=$WORK/dovecot
    mkdir -p "$dir/mail"
    # Dovecot's unprivileged processes (dovecot, dovenull, nobody) must reach it.
    chmod 711 "$WORK"
    chmod 755 "$dir"
    chown nobody:nogroup "$dir/mail"
    printf '%s\n' "$PLANTED_POP3_USER:{PLAIN}$PLANTED_POP3_PASS::::::" \
        "$PLANTED_IMAP_USER:{PLAIN}$PLANTED_IMAP_PASS::::::" >"$dir/users"
    chown root:dovecot "$dir/users"
    chmod 640 "$dir/users"
    printf '%s\n' 'protocols = pop3 imap' "listen = $MAIL_IP" "base_dir = $dir/run" \
        "state_dir = $dir/state" "log_path = $WORK/dovecot.log" 'ssl = no' \
        'disable_plaintext_auth = no' 'auth_mechanisms = plain login' \
        'mail_location = maildir:~/Maildir' 'first_valid_uid = 1' \
        'login_greeting = Dovecot ready.' \
        'passdb {' '  driver = passwd-file' "  args = scheme=PLAIN $dir/users" '}' \
        'userdb {' '  driver = static' "  args = uid=nobody gid=nogroup home=$dir/mail/%u" '}' \
        >"$dir/dovecot.conf"
    start_bg "$NS_SRV" dovecot dovecot -F -c "$dir/dovecot.conf"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$MAIL_IP" 110
    wait_listen "$NS_SRV" tcp "$MAIL_IP" 143

    start_capture pop3-login
    FXA_PASSWORD=$PLANTED_POP3_PASS ip netns exec "$NS_DEV" "$DEB_PYTHON" "$WORK/clients.py" \
        pop3 "$MAIL_IP" "$DEV_IP" 41110 "$PLANTED_POP3_USER" >"$WORK/pop3.out" 2>&1 ||
        die "pop3 client failed: $(cat "$WORK/pop3.out")"
    grep -q '^pop3 +OK' "$WORK/pop3.out" || die "pop3 login: $(cat "$WORK/pop3.out")"
    stop_capture pop3-login

    start_capture imap-login
    FXA_PASSWORD=$PLANTED_IMAP_PASS ip netns exec "$NS_DEV" "$DEB_PYTHON" "$WORK/clients.py" \
        imap "$MAIL_IP" "$DEV_IP" 41143 "$PLANTED_IMAP_USER" >"$WORK/imap.out" 2>&1 ||
        die "imap client failed: $(cat "$WORK/imap.out")"
    grep -q '^imap login OK' "$WORK/imap.out" || die "imap login: $(cat "$WORK/imap.out")"
    stop_capture imap-login
    stop_bg "$pid"
}

# aiosmtpd on the submission port with AUTH over plain text (the default
# requires TLS first); curl authenticates and sends one message.
scenario_smtp() {
    local pid
    cat >"$WORK/smtpd.py" <<'PY'
import asyncio, os, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

host, user = sys.argv[1], sys.argv[2].encode()
password = os.environ["FXA_PASSWORD"].encode()

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and \
        auth_data.login == user and auth_data.password == password
    return AuthResult(success=ok)

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Handler(), hostname="mail.hopital.example", authenticator=authenticator,
                     auth_require_tls=False, auth_required=True), host, 587)
    await server.serve_forever()

asyncio.run(main())
PY
    printf '%s\r\n' 'From: infusion-gw-1 <biomed-smtp@hopital.example>' \
        'To: pharmacie@hopital.example' 'Subject: pump-bay-4 maintenance due' '' \
        'Pump bay 4: preventive maintenance due (TEST ONLY).' >"$WORK/mail.txt"
    start_bg "$NS_SRV" smtpd env FXA_PASSWORD="$PLANTED_SMTP_PASS" "$DEB_PYTHON" \
        "$WORK/smtpd.py" "$MAIL_IP" "$PLANTED_SMTP_USER"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$MAIL_IP" 587
    start_capture smtp-auth
    # The URL path is the EHLO name (else curl sends the build host's name).
    ip netns exec "$NS_DEV" curl -sS --max-time 10 --local-port 41587 \
        --mail-from biomed-smtp@hopital.example --mail-rcpt pharmacie@hopital.example \
        --user "$PLANTED_SMTP_USER:$PLANTED_SMTP_PASS" -T "$WORK/mail.txt" \
        "smtp://$MAIL_IP:587/infusion-gw-1.hopital.example" >"$WORK/smtp.out" 2>&1 ||
        die "curl smtp failed: $(cat "$WORK/smtp.out")"
    stop_capture smtp-auth
    stop_bg "$pid"
}

# inetutils telnetd under inetutils-inetd; instead of /bin/login (which would
# need a host account) telnetd runs a test-only login program.
scenario_telnet() {
    local pid
    {
        printf '#!/bin/bash\n'
        printf 'want_user=%q want_pass=%q\n' "$PLANTED_TELNET_USER" "$PLANTED_TELNET_PASS"
        cat <<'SH'
printf '\r\ninfusion-gw service console (TEST ONLY)\r\n\r\nlogin: '
IFS= read -r user
stty -echo
printf 'Password: '
IFS= read -r pass
stty echo
printf '\r\n'
if [[ $user != "$want_user" || $pass != "$want_pass" ]]; then
    printf 'Login incorrect\r\n'
    exit 1
fi
printf 'Welcome, %s\r\npump-bay-4> ' "$user"
while IFS= read -r cmd; do
    case $cmd in
    status) printf 'pump-bay-4 OK: 8 pumps, 0 alarms\r\npump-bay-4> ' ;;
    exit) printf 'logout\r\n'; exit 0 ;;
    *) printf 'unknown command\r\npump-bay-4> ' ;;
    esac
done
SH
    } >"$WORK/telnet-login"
    chmod 700 "$WORK/telnet-login"
    printf '%s\n' "$TELNET_IP:telnet stream tcp nowait root /usr/sbin/telnetd telnetd -h -E $WORK/telnet-login" \
        >"$WORK/inetd.conf"
    # Multi-line braces: on one line, expect would take the whole list as a
    # single pattern, time out and carry on blindly.
    cat >"$WORK/telnet.exp" <<'EXP'
set timeout 10
log_user 0
spawn telnet $env(FXA_HOST)
expect {
    "login: " {}
    timeout { exit 2 }
}
send "$env(FXA_USER)\r"
expect {
    "Password: " {}
    timeout { exit 3 }
}
send "$env(FXA_PASSWORD)\r"
expect {
    "pump-bay-4> " {}
    "Login incorrect" { exit 4 }
    timeout { exit 5 }
}
send "status\r"
expect {
    "0 alarms" {}
    timeout { exit 6 }
}
send "exit\r"
expect {
    eof {}
    timeout { exit 7 }
}
puts "telnet session done"
EXP
    # telnetd looks the client's name up: a private resolv.conf (bind-mounted in
    # the mount namespace of `ip netns exec`, never on the host) sends the query
    # to the loopback, where it fails at once, instead of towards the host's
    # resolver through the router (an ARP for the gateway in the capture).
    printf 'nameserver 127.0.0.1\n' >"$WORK/resolv.conf"
    # shellcheck disable=SC2016 # $1..$3 are sh -c's own arguments
    start_bg "$NS_SRV" inetd sh -c 'mount --bind "$1" /etc/resolv.conf &&
        exec inetutils-inetd -d --pidfile="$2" "$3"' sh "$WORK/resolv.conf" "$WORK/inetd.pid" \
        "$WORK/inetd.conf"
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$TELNET_IP" 23
    start_capture telnet-login
    dev_exec_from_port 41023 env -i PATH="$PATH" TERM=vt100 HOME="$WORK" \
        FXA_HOST="$TELNET_IP" FXA_USER="$PLANTED_TELNET_USER" \
        FXA_PASSWORD="$PLANTED_TELNET_PASS" expect -f "$WORK/telnet.exp" \
        >"$WORK/telnet.out" 2>&1 || die "telnet session failed: $(tail -n 3 "$WORK/telnet.out")"
    stop_capture telnet-login
    stop_bg "$pid"
}

make_crypto_set() {
    write_py_clients
    scenario_crypto_tls
    scenario_http_planted
    scenario_ftp
    scenario_snmp
    scenario_ldap
    scenario_mail
    scenario_smtp
    scenario_telnet

    local files=() c
    for c in "${CRYPTO_CAPTURES[@]}"; do
        files+=("$OUT/$c.pcap")
    done
    mergecap -F pcap -w "$OUT/crypto.pcap" "${files[@]}"
    log "crypto.pcap: merged ${#files[@]} captures"
    check_crypto_set
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

# ---------------------------------------------------------------- crypto checks

# Number of packets of capture $1 that match display filter $2 (then more
# tshark options, e.g. -d tcp.port==11112,dicom).
tshark_count() {
    local name=$1 filter=$2
    shift 2
    tshark -r "$OUT/$name.pcap" "$@" -Y "$filter" 2>/dev/null | wc -l
}

# Capture $1 must hold at least one packet matching $2 ($3 says what; then
# more tshark options).
check_has() {
    local name=$1 filter=$2 what=$3
    shift 3
    (($(tshark_count "$name" "$filter" "$@") > 0)) || die "$name: no $what ($filter)"
    log "$name.pcap: $what (checked)"
}

# Capture $1 must hold no packet matching $2.
check_lacks() {
    local name=$1 filter=$2 what=$3
    shift 3
    (($(tshark_count "$name" "$filter" "$@") == 0)) || die "$name: unexpected $what ($filter)"
    log "$name.pcap: no $what (checked)"
}

# The ServerHello of $1 must select version $2 and cipher suite $3.
check_tls_suite() {
    local name=$1 want="$2 $3" got
    got=$(tshark -r "$OUT/$name.pcap" -Y 'tls.handshake.type == 2' -T fields \
        -e tls.handshake.extensions.supported_version -e tls.handshake.version \
        -e tls.handshake.ciphersuite 2>/dev/null |
        awk -F'\t' '{ print ($1 != "" ? $1 : $2) " " $3 }')
    [[ $got == "$want" ]] || die "$name: ServerHello '$got', expected '$want'"
    log "$name.pcap: ServerHello $got (checked)"
}

# The server certificate in clear in $1, as openssl prints it ($2: options).
wire_certificate() {
    local name=$1
    shift
    tshark -r "$OUT/$name.pcap" -Y 'tls.handshake.type == 11' -T fields \
        -e tls.handshake.certificate 2>/dev/null | head -n 1 | cut -d, -f1 | tr -d ':\n' |
        "$DEB_PYTHON" -c 'import binascii, sys; sys.stdout.buffer.write(binascii.unhexlify(sys.stdin.read()))' |
        openssl x509 -inform DER -noout "$@"
}

# The certificate of $1 printed with -text must contain the fixed string $2.
check_cert() {
    local name=$1 text=$2
    wire_certificate "$name" -text | grep -qF -- "$text" ||
        die "$name: the certificate on the wire lacks '$text'"
    log "$name.pcap: certificate has '$text' (checked)"
}

check_crypto_set() {
    local c size
    for c in "${CRYPTO_CAPTURES[@]}" crypto; do
        size=$(stat -c %s "$OUT/$c.pcap")
        ((size < 102400)) || die "$c.pcap is $size bytes (at most 100 KB)"
    done
    if ! command -v tshark >/dev/null 2>&1; then
        log "tshark absent: crypto captures not checked"
        return 0
    fi
    check_tls_suite tls11 0x0302 0xc014
    check_tls_suite tls12-3des 0x0303 0x000a
    check_tls_suite tls12-null 0x0303 0x003b
    check_tls_suite tls12-anon 0x0303 0x00a7
    check_lacks tls12-anon 'tls.handshake.type == 11' "Certificate message"
    check_tls_suite cert-rsa1024 0x0303 0xc030
    check_cert cert-rsa1024 'Public-Key: (1024 bit)'
    check_tls_suite cert-sha1 0x0303 0xc030
    check_cert cert-sha1 'Signature Algorithm: sha1WithRSAEncryption'
    check_tls_suite cert-selfsigned 0x0303 0xc030
    check_cert cert-selfsigned 'Issuer: O = fluxaudit TEST ONLY, CN = selfsigned.lab'
    check_tls_suite cert-expired 0x0303 0xc030
    check_cert cert-expired 'Not After : Dec 31 23:59:59 2024 GMT'
    check_has http-basic-auth-nondefault 'http.authorization' "Authorization header"
    check_has http-basic-auth-nondefault 'http.response.code == 200' "200 answer"
    check_has ftp-login 'ftp.request.command == "PASS"' "PASS command"
    check_has ftp-login 'ftp.response.code == 230' "230 login accepted"
    check_has ftp-refused 'ftp.response.code == 530' "530 login refused"
    check_lacks ftp-refused 'ftp.response.code == 230' "230 answer"
    check_has snmp-public 'snmp.community == "public" && snmp.get_response_element' \
        "get-response with community public"
    check_has snmp-nondefault "snmp.community == \"$PLANTED_COMMUNITY\" && snmp.get_response_element" \
        "get-response with the non-default community"
    check_has ldap-bind 'ldap.bindRequest_element && ldap.simple' "simple bindRequest"
    check_has ldap-bind 'ldap.bindResponse_element && ldap.resultCode == 0' "bind success"
    check_has ldap-bind 'ldap.searchResEntry_element' "search result entry"
    check_has pop3-login 'pop.request.command == "PASS"' "PASS command"
    check_has pop3-login 'tcp.srcport == 110 && frame contains "+OK Logged in"' "+OK Logged in"
    check_has imap-login 'imap.request.command == "LOGIN"' "LOGIN command"
    check_has imap-login 'tcp.srcport == 143 && frame contains "Logged in"' "OK Logged in"
    check_has smtp-auth 'smtp.req.command == "AUTH"' "AUTH command"
    check_has smtp-auth 'smtp.response.code == 235' "235 authentication successful"
    check_has smtp-auth 'smtp.response.code == 250 && frame contains "queued"' "message queued"
    check_has telnet-login 'tcp.srcport == 23 && frame contains "Password:"' "password prompt"
    check_has telnet-login 'tcp.srcport == 23 && frame contains "Welcome"' "login accepted"
}


# ---------------------------------------------------------------- health set

# The health set's certificates (test-only, see certs/README.md): the PACS's
# DICOM TLS server and the RADIUS server's EAP (PEAP) certificate, both
# sound (RSA 2048, SHA-256, test CA, 390 days).
ensure_health_certs() {
    if crypto_cert_stale pacs; then
        log "generating test-only certificate pacs"
        make_leaf pacs pacs.hopital.example
    fi
    if crypto_cert_stale radius; then
        log "generating test-only certificate radius"
        make_leaf radius radius.hopital.example
    fi
}

# The Wi-Fi access point that relays 802.1X to RADIUS (eapol_test plays both
# the supplicant and this authenticator): a namespace of its own on the
# switch, made only now so that it never exists during the other sets.
add_nas() {
    add_ns "$NS_NAS"
    add_veth p-nas 02:00:00:00:ff:04 "$NS_SW" eth0 "$NAS_MAC" "$NS_NAS"
    ip -n "$NS_SW" link set p-nas master br0
    ip -n "$NS_NAS" addr add "$NAS_IP/16" dev eth0
}

# The planted data set: a 4x4 Secondary Capture image written with dump2dcm
# (dcmtk) from a text dump, with the planted patient name, id and study
# description (fictitious, listed in README.md).
write_dicom_dataset() {
    local pixels
    # A 4x4 grey ramp: 00\10\20...\f0.
    pixels=$(printf "%02x\\\\" 0 16 32 48 64 80 96 112 128 144 160 176 192 208 224 240)
    pixels=${pixels%\\}
    cat >"$WORK/sc.dump" <<DUMP
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.4242.1.1]
(0008,0020) DA [20251124]
(0008,0030) TM [080000]
(0008,0050) SH [ACC-0042]
(0008,0060) CS [OT]
(0008,0064) CS [WSD]
(0008,0070) LO [Acme Medical]
(0008,1030) LO [$PLANTED_STUDY]
(0010,0010) PN [$PLANTED_PATIENT_NAME]
(0010,0020) LO [$PLANTED_PATIENT_ID]
(0010,0030) DA [19700101]
(0010,0040) CS [F]
(0020,000d) UI [1.2.826.0.1.3680043.2.1143.4242.2]
(0020,000e) UI [1.2.826.0.1.3680043.2.1143.4242.3]
(0020,0010) SH [1]
(0020,0011) IS [1]
(0020,0013) IS [1]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 4
(0028,0011) US 4
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB $pixels
DUMP
    dump2dcm --write-xfer-little "$WORK/sc.dump" "$WORK/sc.dcm" >"$WORK/dump2dcm.log" 2>&1 ||
        die "dump2dcm failed: $(cat "$WORK/dump2dcm.log")"
}

# storescp (dcmtk) on the PACS, one port; $1 port, $2 log name, then options
# (+tls ... for DICOM TLS). storescp has no bind address: it listens on every
# address of fxa-srv. Received files go to $WORK/dicom-in-$1.
# storescp looks the client's address up (for its log): as for telnetd, a
# private resolv.conf (bind-mounted in the mount namespace of `ip netns
# exec`, never on the host) makes that lookup fail at once on the loopback,
# instead of a query towards the host's resolver through the router (an ARP
# for the gateway in the capture and a 15 s wait).
dicom_server() {
    local port=$1 name=$2
    shift 2
    mkdir -p "$WORK/dicom-in-$port"
    printf 'nameserver 127.0.0.1\n' >"$WORK/resolv.conf"
    # shellcheck disable=SC2016 # $1 is sh -c's own argument
    start_bg "$NS_SRV" "$name" sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
        sh "$WORK/resolv.conf" storescp -aet "$PACS_AET" -od "$WORK/dicom-in-$port" "$@" "$port"
    wait_listen "$NS_SRV" tcp 0.0.0.0 "$port"
}

# A dcmtk client ($3 ...) from the device's fixed source port $1 ($2: what).
dicom_client() {
    local cport=$1 what=$2
    shift 2
    dev_exec_from_port "$cport" "$@" >"$WORK/$what.out" 2>&1 ||
        die "$what failed: $(tail -n 5 "$WORK/$what.out")"
}

scenario_dicom() {
    local pid
    write_dicom_dataset
    dicom_server 11112 storescp
    pid=$LAST_PID

    # C-STORE of the planted image in clear.
    start_capture dicom-store
    dicom_client 42112 storescu storescu -aet "$DICOM_AET" -aec "$PACS_AET" "$PACS_IP" 11112 \
        "$WORK/sc.dcm"
    stop_capture dicom-store
    compgen -G "$WORK/dicom-in-11112/*" >/dev/null || die "storescp received no image"

    # Verification only (C-ECHO): an association without any data set.
    start_capture dicom-echo
    dicom_client 42113 echoscu echoscu -aet "$DICOM_AET" -aec "$PACS_AET" "$PACS_IP" 11112
    stop_capture dicom-echo
    stop_bg "$pid"

    # The same C-STORE over DICOM TLS (port 2762, dcmtk's default BCP 195
    # profile). The device authenticates the PACS with the test CA and
    # presents no certificate of its own (+tla), so the PACS does not ask
    # for one (-ic).
    dicom_server 2762 storescp-tls +tls "$CERTS/pacs.key" "$CERTS/pacs.crt" -ic
    pid=$LAST_PID
    start_capture dicom-tls
    dicom_client 42762 storescu-tls storescu +tla +cf "$CERTS/test-ca.crt" \
        -aet "$DICOM_AET" -aec "$PACS_AET" "$PACS_IP" 2762 "$WORK/sc.dcm"
    stop_capture dicom-tls
    compgen -G "$WORK/dicom-in-2762/*" >/dev/null || die "storescp (TLS) received no image"
    stop_bg "$pid"
}

# HL7 v2 over MLLP with python3-hl7 (Debian): its `mllp_send` sends each
# message of a file and waits for the answer; the receiver is python-hl7's
# asyncio MLLP server (hl7.mllp), answering every message with an ACK
# (MSA|AA) that python-hl7 builds (Message.create_ack).
scenario_hl7() {
    local pid sb=$'\x0b' eb=$'\x1c' cr=$'\r' now msh
    now=$(date -u +%Y%m%d%H%M%S)
    msh="MSH|^~\\&|INFUSIONGW|REA4|HL7ENGINE|HOPITAL|$now|"
    cat >"$WORK/hl7-receiver.py" <<'PY'
import asyncio, sys
from hl7.mllp import start_hl7_server

host, port = sys.argv[1], int(sys.argv[2])
count = 0

async def session(reader, writer):
    global count
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            count += 1
            writer.writemessage(message.create_ack("AA", message_id="ACK%05d" % count,
                                                   application="HL7ENGINE",
                                                   facility="HOPITAL"))
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass  # the sender closed the connection
    finally:
        writer.close()

async def main():
    server = await start_hl7_server(session, host, port)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY
    # Two messages, segments ended by CR, each framed <SB>...<EB><CR> as
    # mllp_send reads them. Planted PID-3, PID-5 and OBX-5 (README.md).
    {
        printf '%s' "$sb"
        printf '%s\r' "$msh|ADT^A01^ADT_A01|MSG00001|P|2.5.1" \
            "EVN|A01|$now" \
            "PID|1||$PLANTED_MRN^^^HOPITAL^MR||$PLANTED_HL7_NAME||19700101|F" \
            'PV1|1|I|REA^4^1'
        printf '%s%s' "$eb" "$cr"
        printf '%s' "$sb"
        printf '%s\r' "$msh|ORU^R01^ORU_R01|MSG00002|P|2.5.1" \
            "PID|1||$PLANTED_MRN^^^HOPITAL^MR||$PLANTED_HL7_NAME||19700101|F" \
            'OBR|1||ORD0042|2951-2^Sodium^LN' \
            "OBX|1|ST|2951-2^Sodium^LN||$PLANTED_OBX|mmol/L|||||F"
        printf '%s%s' "$eb" "$cr"
    } >"$WORK/hl7-messages.mllp"
    start_bg "$NS_SRV" hl7-receiver "$DEB_PYTHON" "$WORK/hl7-receiver.py" "$HL7_IP" 2575
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$HL7_IP" 2575
    start_capture hl7-mllp
    dev_exec_from_port 42575 mllp_send --port 2575 --file "$WORK/hl7-messages.mllp" "$HL7_IP" \
        >"$WORK/mllp_send.out" 2>&1 || die "mllp_send failed: $(tail -n 3 "$WORK/mllp_send.out")"
    stop_capture hl7-mllp
    stop_bg "$pid"
    (($(grep -c 'MSA|AA' "$WORK/mllp_send.out") == 2)) ||
        die "hl7: expected two ACKs (MSA|AA), got: $(tr '\r' '\n' <"$WORK/mllp_send.out" |
            grep -E '^(MSH|MSA)' | head -4)"
}

# A minimal FHIR R4 responder (python3 http.server, documented in README.md):
# GET /fhir/Patient?identifier=X answers a searchset Bundle with one planted
# Patient, POST /fhir/Observation answers 201 with the stored Observation.
# HTTP/1.1 with Content-Length (the client reuses its connection).
scenario_fhir() {
    local pid url=http://fhir.hopital.example:8080/fhir
    cat >"$WORK/fhir-stub.py" <<'PY'
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

host, port = sys.argv[1], int(sys.argv[2])
family, given = os.environ["FXA_FAMILY"], os.environ["FXA_GIVEN"]
base = "http://fhir.hopital.example:8080/fhir"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "fhir-stub/1 (TEST ONLY)"

    def send_json(self, code, body, location=None):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/fhir+json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        ident = parse_qs(url.query).get("identifier", [""])[0]
        if url.path != "/fhir/Patient" or not ident:
            self.send_json(404, {"resourceType": "OperationOutcome"})
            return
        patient = {"resourceType": "Patient", "id": "pat-1",
                   "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": ident}],
                   "name": [{"family": family, "given": [given]}],
                   "gender": "female", "birthDate": "1970-01-01"}
        self.send_json(200, {"resourceType": "Bundle", "type": "searchset", "total": 1,
                             "entry": [{"fullUrl": base + "/Patient/pat-1",
                                        "resource": patient, "search": {"mode": "match"}}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        if self.path != "/fhir/Observation" or body.get("resourceType") != "Observation":
            self.send_json(400, {"resourceType": "OperationOutcome"})
            return
        body["id"] = "obs-1"
        body["meta"] = {"versionId": "1"}
        self.send_json(201, body, base + "/Observation/obs-1/_history/1")

    def log_message(self, *args):
        pass  # the requests carry the planted patient data: no log

HTTPServer((host, port), Handler).serve_forever()
PY
    printf '%s' '{"resourceType":"Observation","status":"final",' \
        '"code":{"coding":[{"system":"http://loinc.org","code":"2951-2","display":"Sodium"}]},' \
        '"subject":{"reference":"Patient/pat-1",' \
        '"identifier":{"value":"'"$PLANTED_PATIENT_ID"'"}},' \
        '"effectiveDateTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'",' \
        '"valueString":"'"$PLANTED_FHIR_VALUE"'"}' >"$WORK/observation.json"
    start_bg "$NS_SRV" fhir-stub env FXA_FAMILY="$PLANTED_FHIR_FAMILY" \
        FXA_GIVEN="$PLANTED_FHIR_GIVEN" "$DEB_PYTHON" "$WORK/fhir-stub.py" "$FHIR_IP" 8080
    pid=$LAST_PID
    wait_listen "$NS_SRV" tcp "$FHIR_IP" 8080
    start_capture fhir-http
    # One connection for both requests (curl reuses it across --next when the
    # local port options are the same).
    ip netns exec "$NS_DEV" curl -sS --fail --max-time 10 --local-port 42080-42081 \
        --resolve "fhir.hopital.example:8080:$FHIR_IP" -H 'Accept: application/fhir+json' \
        -o "$WORK/fhir-get.out" "$url/Patient?identifier=$PLANTED_PATIENT_ID" \
        --next -sS --fail --max-time 10 --local-port 42080-42081 \
        --resolve "fhir.hopital.example:8080:$FHIR_IP" -H 'Accept: application/fhir+json' \
        -H 'Content-Type: application/fhir+json' --data-binary "@$WORK/observation.json" \
        -o "$WORK/fhir-post.out" "$url/Observation" >"$WORK/curl-fhir.log" 2>&1 ||
        die "curl (FHIR) failed: $(cat "$WORK/curl-fhir.log")"
    stop_capture fhir-http
    stop_bg "$pid"
    grep -q '"type":"searchset"' "$WORK/fhir-get.out" || die "FHIR search answered no Bundle"
    grep -q '"id":"obs-1"' "$WORK/fhir-post.out" || die "FHIR create answered no Observation"
}

# freeradius (Debian's configuration, copied and trimmed in $WORK): one
# client (the access point, planted shared secret), one user (planted
# password), EAP with PEAP as the default type (MD5 still allowed, as on
# many servers), the test CA's radius certificate, no privilege drop (the
# copied files are root's), logs in $WORK.
write_radius_config() {
    local dir=$WORK/raddb
    cp -a /etc/freeradius/3.0 "$dir"
    mkdir -p "$WORK/radlog" "$WORK/radrun"
    sed -i -e 's/^\(\s*\)\(user\|group\) = freerad/\1#\2 = freerad/' \
        -e "s|^logdir = .*|logdir = $WORK/radlog|" -e "s|^run_dir = .*|run_dir = $WORK/radrun|" \
        -e "s|^raddbdir = .*|raddbdir = $dir|" "$dir/radiusd.conf"
    sed -i -e '0,/default_eap_type = md5/s//default_eap_type = peap/' \
        -e "s|^\(\s*\)private_key_file = .*|\1private_key_file = $CERTS/radius.key|" \
        -e "s|^\(\s*\)certificate_file = .*|\1certificate_file = $CERTS/radius.crt|" \
        -e "s|^\(\s*\)ca_file = .*|\1ca_file = $CERTS/test-ca.crt|" \
        "$dir/mods-available/eap"
    {
        printf 'client wifi-ap-rea4 {\n\tipaddr = %s\n\tsecret = %s\n' "$NAS_IP" \
            "$PLANTED_RADIUS_SECRET"
        printf '\tshortname = wifi-ap-rea4\n\trequire_message_authenticator = yes\n}\n'
    } >"$dir/clients.conf"
    {
        printf '"%s"\tCleartext-Password := "%s"\n\n' "$EAP_USER" "$PLANTED_EAP_PASS"
        cat /etc/freeradius/3.0/mods-config/files/authorize
    } >"$dir/mods-config/files/authorize"
    # Only the RADIUS address, authentication only: the stock site also
    # listens on IPv6 (disabled here) and on accounting ports.
    rm -f "$dir/sites-enabled/default"
    cat >"$dir/sites-enabled/default" <<CONF
server default {
	listen {
		type = auth
		ipaddr = $RADIUS_IP
		port = 1812
	}
	authorize {
		preprocess
		eap {
			ok = return
		}
		files
	}
	authenticate {
		eap
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
			eap
			remove_reply_message_if_eap
		}
	}
}
CONF
    chmod -R go-rwx "$dir"
}

# eapol_test (wpa_supplicant's test tool, Debian eapoltest) from the access
# point's namespace: the EAP peer of the device and the RADIUS client in one,
# Calling-Station-Id = the device's MAC. $1 capture, $2 source port, $3 its
# network block; -n: EAP-MD5 derives no key.
radius_exchange() {
    local name=$1 cport=$2 network=$3 rc=0
    shift 3
    printf 'network={\n%s\n}\n' "$network" >"$WORK/$name.conf"
    chmod 600 "$WORK/$name.conf"
    start_capture "$name" "$NS_SRV" eth0
    ip netns exec "$NS_NAS" sysctl -qw net.ipv4.ip_local_port_range="$cport $cport"
    ip netns exec "$NS_NAS" eapol_test -c "$WORK/$name.conf" -a "$RADIUS_IP" -p 1812 \
        -s "$PLANTED_RADIUS_SECRET" -A "$NAS_IP" -M "$DEV_MAC" -t 10 -r 0 "$@" \
        >"$WORK/$name.eapol_test.log" 2>&1 || rc=$?
    ip netns exec "$NS_NAS" sysctl -qw net.ipv4.ip_local_port_range="$DEV_PORT_RANGE"
    # The log holds the secrets: only its verdict is shown.
    if ((rc != 0)) || [[ $(tail -n 1 "$WORK/$name.eapol_test.log") != SUCCESS ]]; then
        die "eapol_test ($name) failed (exit $rc, last line: $(tail -n 1 \
            "$WORK/$name.eapol_test.log" | cut -c1-60)); see freeradius -X by hand"
    fi
    stop_capture "$name"
}

scenario_radius() {
    local pid
    write_radius_config
    start_bg "$NS_SRV" freeradius freeradius -f -l stdout -d "$WORK/raddb"
    pid=$LAST_PID
    wait_listen "$NS_SRV" udp "$RADIUS_IP" 1812
    # EAP-MD5: the server proposes PEAP, the device answers NAK (MD5), then
    # MD5-Challenge and the MD5 response: no TLS tunnel.
    radius_exchange radius-eap-md5 42812 "$(printf '\t%s\n' key_mgmt=IEEE8021X eap=MD5 \
        eapol_flags=0 "identity=\"$EAP_USER\"" "password=\"$PLANTED_EAP_PASS\"")" -n
    # PEAP with MSCHAPv2 inside the tunnel; the outer identity is anonymous.
    radius_exchange radius-peap 42813 "$(printf '\t%s\n' key_mgmt=WPA-EAP eap=PEAP \
        "identity=\"$EAP_USER\"" 'anonymous_identity="anonymous"' \
        "password=\"$PLANTED_EAP_PASS\"" "ca_cert=\"$CERTS/test-ca.crt\"" \
        'phase1="peapver=0"' 'phase2="auth=MSCHAPV2"')"
    stop_bg "$pid"
}

# Crafted 802.11 frames (no radio here): tools/craft-wifi.py with Debian's
# python3-scapy writes the wifi-*.pcap files (radiotap).
scenario_wifi() {
    FXA_EAP_MD5_PASSWORD=$PLANTED_WIFI_MD5_PASS "$DEB_PYTHON" "$HERE/tools/craft-wifi.py" \
        "$OUT" >"$WORK/craft-wifi.out" 2>&1 ||
        die "craft-wifi.py failed: $(tail -n 3 "$WORK/craft-wifi.out")"
    sed 's/^/    /' "$WORK/craft-wifi.out" >&2
}

check_health_set() {
    local c size d=(-d 'tcp.port==11112,dicom') t=(-d 'tcp.port==2762,tls')
    for c in "${HEALTH_CAPTURES[@]}" health "${WIFI_CAPTURES[@]}" wifi; do
        size=$(stat -c %s "$OUT/$c.pcap")
        ((size < 102400)) || die "$c.pcap is $size bytes (at most 100 KB)"
    done
    if ! command -v tshark >/dev/null 2>&1; then
        log "tshark absent: health captures not checked"
        return 0
    fi
    check_has dicom-store 'dicom.pdu.type == 2' "A-ASSOCIATE-AC" "${d[@]}"
    check_has dicom-store 'dicom.pdu.type == 4' "P-DATA-TF" "${d[@]}"
    check_has dicom-store "frame contains \"$PLANTED_PATIENT_NAME\"" \
        "planted patient name in clear"
    check_has dicom-store 'dicom.pdu.type == 6' "A-RELEASE-RP" "${d[@]}"
    check_has dicom-echo 'dicom.pdu.type == 4' "P-DATA-TF (C-ECHO)" "${d[@]}"
    check_lacks dicom-echo "frame contains \"$PLANTED_PATIENT_ID\"" "patient data"
    check_has dicom-tls 'tls.handshake.type == 2' "ServerHello" "${t[@]}"
    check_has dicom-tls 'tls.app_data' "TLS application data" "${t[@]}"
    check_lacks dicom-tls "frame contains \"$PLANTED_PATIENT_ID\"" "patient data in clear"
    check_lacks dicom-tls 'dicom' "DICOM PDU in clear" -d tcp.port==2762,dicom
    log "dicom-tls.pcap: ServerHello $(tshark -r "$OUT/dicom-tls.pcap" "${t[@]}" \
        -Y 'tls.handshake.type == 2' -T fields -e tls.handshake.extensions.supported_version \
        -e tls.handshake.version -e tls.handshake.ciphersuite 2>/dev/null | head -n 1 |
        tr '\t' ' ')"
    check_has hl7-mllp "tcp.dstport == 2575 && frame contains \"ADT^A01\"" "ADT^A01"
    check_has hl7-mllp "tcp.dstport == 2575 && frame contains \"ORU^R01\"" "ORU^R01"
    check_has hl7-mllp "tcp.dstport == 2575 && frame contains \"$PLANTED_MRN\"" "planted PID-3"
    (($(tshark_count hl7-mllp 'tcp.srcport == 2575 && frame contains "MSA|AA"') == 2)) ||
        die "hl7-mllp: expected two MSA|AA answers"
    log "hl7-mllp.pcap: two MSA|AA answers (checked)"
    check_has fhir-http \
        'http.request.method == "GET" && http.request.uri contains "/fhir/Patient"' \
        "FHIR search" -d tcp.port==8080,http
    check_has fhir-http 'http.request.method == "POST" && http.content_type contains "fhir+json"' \
        "FHIR create" -d tcp.port==8080,http
    check_has fhir-http 'http.response.code == 200' "200 answer" -d tcp.port==8080,http
    check_has fhir-http 'http.response.code == 201' "201 answer" -d tcp.port==8080,http
    (($(tshark_count fhir-http 'tcp.flags.syn == 1 && tcp.flags.ack == 0') == 1)) ||
        die "fhir-http: both requests must share one connection"
    for c in radius-eap-md5 radius-peap; do
        check_has "$c" 'radius.code == 1 && radius.Calling_Station_Id == "02-00-0A-0A-01-14"' \
            "Access-Request with the device's Calling-Station-Id"
        check_has "$c" 'radius.code == 2' "Access-Accept"
        check_lacks "$c" 'radius.code == 3' "Access-Reject"
    done
    check_has radius-eap-md5 'eap.code == 2 && eap.type == 4' "EAP-MD5 response"
    check_has radius-peap 'eap.code == 2 && eap.type == 25' "PEAP response"
    check_lacks radius-peap 'eap.type == 4' "EAP-MD5"
    check_has wifi-beacons 'wlan.fc.type_subtype == 8' "beacons"
    check_has wifi-psk-assoc 'wlan.fc.type_subtype == 1 && wlan.fixed.status_code == 0' \
        "association response (success)"
    check_has wifi-psk-assoc 'wlan_rsna_eapol.keydes.key_info == 0x030a' "4-way message 4"
    check_has wifi-open-assoc 'dns && wlan.sa == 02:00:0a:0a:01:15' "DNS query over the air"
    check_has wifi-eap-md5 'eap.code == 2 && eap.type == 4' "EAP-MD5 response"
    check_lacks wifi '_ws.malformed' "malformed frame"
}

make_health_set() {
    add_nas
    scenario_dicom
    scenario_hl7
    scenario_fhir
    scenario_radius
    scenario_wifi

    local files=() c
    for c in "${HEALTH_CAPTURES[@]}"; do
        files+=("$OUT/$c.pcap")
    done
    mergecap -F pcap -w "$OUT/health.pcap" "${files[@]}"
    log "health.pcap: merged ${#files[@]} captures"
    files=()
    for c in "${WIFI_CAPTURES[@]}"; do
        files+=("$OUT/$c.pcap")
    done
    mergecap -F pcap -w "$OUT/wifi.pcap" "${files[@]}"
    log "wifi.pcap: merged ${#files[@]} crafted captures"
    check_health_set
}

usage() {
    cat <<'USAGE'
Usage: make-captures.sh [--only reference|crypto|health] [OUTPUT_DIR]   (as root)

Regenerates the reference captures (reference set), the crypto captures
(crypto set), the health and Wi-Fi captures (health set) or all three
(default) into OUTPUT_DIR (default: the script's directory, pcaps/).
--only SET leaves every file of the other sets untouched.
USAGE
}

parse_args() {
    local positional=0
    while (($#)); do
        case $1 in
        --only)
            (($# >= 2)) || die "--only needs a set: reference, crypto or health"
            ONLY=$2
            shift 2
            ;;
        --only=*)
            ONLY=${1#--only=}
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) die "unknown option $1 (see --help)" ;;
        *)
            ((positional++ == 0)) || die "more than one output directory given"
            OUT=$1
            shift
            ;;
        esac
    done
    [[ $ONLY == all || $ONLY == reference || $ONLY == crypto || $ONLY == health ]] ||
        die "--only: unknown set '$ONLY' (reference, crypto or health)"
}

make_reference_set() {
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
}

main() {
    parse_args "$@"
    check_environment
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    WORK=$(mktemp -d /tmp/fxa-captures.XXXXXX)
    ensure_certs
    want crypto && ensure_crypto_certs
    want health && ensure_health_certs
    build_topology

    want reference && make_reference_set
    want crypto && make_crypto_set
    want health && make_health_set
    log "done: captures in $OUT"
}

main "$@"
