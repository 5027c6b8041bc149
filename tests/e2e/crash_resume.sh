#!/bin/bash
# Crash test of the campaign store: a live capture (network namespaces +
# tcpreplay, as in live_capture.sh) of the first half of the reference
# capture is killed with SIGKILL after its checkpoint; a new capture on the
# same --db receives the second half and is stopped with SIGTERM. The
# campaign must report what an uninterrupted replay of the whole file
# reports (times, sources and timing counters aside): nothing lost beyond
# the last checkpoint interval, nothing counted twice. Skipped (exit 77)
# where namespaces cannot be created.
set -u
bin=$(realpath "${1:?usage: crash_resume.sh FLUXAUDIT}")
root=${FLUXAUDIT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pcap=$root/pcaps/reference.pcap
matrix=$root/pcaps/reference-matrix.json
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
[ -f "$pcap" ] || skip "$pcap missing"

tag=fk$$
ns_send=${tag}s
ns_capture=${tag}c
tmp=$(mktemp -d)
capture_pid=
cleanup() {
    [ -n "$capture_pid" ] && kill -9 "$capture_pid" 2>/dev/null
    ip netns del "$ns_send" 2>/dev/null
    ip netns del "$ns_capture" 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns_send" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$ns_capture" || skip "cannot create network namespaces here"
ip link add "${tag}a" netns "$ns_send" type veth peer name "${tag}b" netns "$ns_capture" ||
    skip "cannot create a veth pair here"
for ns in "$ns_send" "$ns_capture"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$ns_send" link set "${tag}a" mtu 9000 up
ip -n "$ns_capture" link set "${tag}b" mtu 9000 up

# Split the capture at its widest pause near the middle: no flow spans it.
/usr/bin/python3 - "$pcap" "$tmp/part1.pcap" "$tmp/part2.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
header, off, packets = data[:24], 24, []
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
    packets.append((sec + usec / 1e6, data[off:off + 16 + incl]))
    off += 16 + incl
n = len(packets)
cut = max(range(n // 4, 3 * n // 4), key=lambda i: packets[i][0] - packets[i - 1][0])
for path, part in ((sys.argv[2], packets[:cut]), (sys.argv[3], packets[cut:])):
    with open(path, "wb") as f:
        f.write(header + b"".join(p for _, p in part))
PY

start_capture() { # start_capture LOG
    ip netns exec "$ns_capture" "$bin" capture -i "${tag}b" --matrix "$matrix" --db "$tmp/live.db" \
        --checkpoint-seconds 1 --fail-on none -q >"$1" 2>&1 &
    capture_pid=$!
    # -q: no "capturing on" line; wait until the session exists instead.
    for _ in $(seq 100); do
        [ -s "$tmp/live.db" ] && break
        sleep 0.1
    done
    sleep 0.5
}

"$bin" replay "$pcap" --matrix "$matrix" --db "$tmp/replay.db" --fail-on none -q
"$bin" report --db "$tmp/replay.db" --format json -o "$tmp/replay.json" --fail-on none

start_capture "$tmp/live1.log"
ip netns exec "$ns_send" tcpreplay -q -i "${tag}a" "$tmp/part1.pcap" >/dev/null 2>&1
sleep 2.5 # more than the checkpoint interval: part 1 is in the database
kill -9 "$capture_pid"
wait "$capture_pid" 2>/dev/null
capture_pid=

start_capture "$tmp/live2.log"
ip netns exec "$ns_send" tcpreplay -q -i "${tag}a" "$tmp/part2.pcap" >/dev/null 2>&1
sleep 1
kill -TERM "$capture_pid"
wait "$capture_pid"
status=$?
capture_pid=
failures=0
if [ "$status" -ne 0 ]; then
    echo "FAIL: the restarted capture exited $status"; cat "$tmp/live2.log"; failures=$((failures + 1))
fi
"$bin" report --db "$tmp/live.db" --format json -o "$tmp/live.json" --fail-on none
if ! /usr/bin/python3 "$root/tests/e2e/compare_reports.py" "$tmp/replay.json" "$tmp/live.json"; then
    echo "FAIL: the campaign killed and resumed differs from the uninterrupted one"
    failures=$((failures + 1))
fi
sessions=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["capture"]["sources"]))' "$tmp/live.json")
if [ "$failures" -eq 0 ]; then
    echo "ok: SIGKILL after a checkpoint lost nothing and counted nothing twice ($sessions source(s))"
    echo "1 passed, 0 failed"
fi
[ "$failures" -eq 0 ]
