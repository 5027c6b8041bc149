#!/bin/bash
# Live capture test: two network namespaces joined by a veth pair;
# `fluxaudit capture -i` (dropping root with -Z) on one end while tcpreplay
# sends the bundled reference capture from the other; then SIGTERM. The
# report must equal the replay report of the same capture, times and drops
# aside (and the flow-table counters, which depend on timing). Skipped (exit 77) where namespaces cannot be created.
set -u
bin=$(realpath "${1:?usage: live_capture.sh FLUXAUDIT}")
root=${FLUXAUDIT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pcap=$root/pcaps/reference.pcap
matrix=$root/pcaps/reference-matrix.json
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "live capture needs root (network namespaces)"
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed (apt-get install tcpreplay)"
[ -f "$pcap" ] || skip "$pcap missing"
id nobody >/dev/null 2>&1 || skip "no 'nobody' user for -Z"

tag=fa$$
ns_send=${tag}s
ns_capture=${tag}c
tmp=$(mktemp -d)
chmod 755 "$tmp"
capture_pid=
cleanup() {
    [ -n "$capture_pid" ] && kill -9 "$capture_pid" 2>/dev/null
    ip netns del "$ns_send" 2>/dev/null
    ip netns del "$ns_capture" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns_send" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$ns_capture" || skip "cannot create network namespaces here"
ip link add "${tag}a" netns "$ns_send" type veth peer name "${tag}b" netns "$ns_capture" ||
    skip "cannot create a veth pair here"
for ns in "$ns_send" "$ns_capture"; do
    # No IPv6 autoconfiguration chatter: only the replayed packets may cross.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
# Frames coalesced by offloads on the host that made a capture can exceed
# 1500 bytes: a large MTU lets tcpreplay send every frame as captured.
ip -n "$ns_send" link set "${tag}a" mtu 9000 up
ip -n "$ns_capture" link set "${tag}b" mtu 9000 up

# The reference: a replay of the same file.
"$bin" replay "$pcap" --matrix "$matrix" --report "$tmp/replay.json" --fail-on none -q
touch "$tmp/live.json"
ip netns exec "$ns_capture" "$bin" capture -i "${tag}b" --matrix "$matrix" \
    --report "$tmp/live.json" --fail-on none -Z nobody --no-color \
    >"$tmp/live.out" 2>"$tmp/live.err" &
capture_pid=$!
for _ in $(seq 100); do
    grep -q 'capturing on' "$tmp/live.err" 2>/dev/null && break
    sleep 0.1
done
grep -q 'capturing on' "$tmp/live.err" || { echo "FAIL: capture did not start"; cat "$tmp/live.err"; exit 1; }

failures=0
# -Z: the capturing process no longer runs as root.
user=$(ps -o user= -p "$capture_pid" | tr -d ' ')
if [ "$user" != "nobody" ]; then
    echo "FAIL: capture runs as '$user', expected nobody after -Z"; failures=$((failures + 1))
fi

ip netns exec "$ns_send" tcpreplay -q -i "${tag}a" "$pcap" >"$tmp/tcpreplay.log" 2>&1 ||
    { echo "FAIL: tcpreplay"; cat "$tmp/tcpreplay.log"; exit 1; }
sleep 1
kill -TERM "$capture_pid"
wait "$capture_pid"
status=$?
capture_pid=
if [ "$status" -ne 0 ]; then
    echo "FAIL: capture exited $status after SIGTERM"; cat "$tmp/live.err"; failures=$((failures + 1))
fi
grep -q 'DEVICE' "$tmp/live.out" || { echo "FAIL: no summary after SIGTERM"; failures=$((failures + 1)); }
if ! /usr/bin/python3 "$root/tests/e2e/compare_reports.py" "$tmp/replay.json" "$tmp/live.json"; then
    echo "FAIL: live report differs from the replay report"; failures=$((failures + 1))
fi
if [ "$failures" -eq 0 ]; then
    echo "ok: live capture report equals the replay report; privileges dropped to nobody"
    echo "1 passed, 0 failed"
fi
[ "$failures" -eq 0 ]
