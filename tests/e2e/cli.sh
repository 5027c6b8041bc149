#!/bin/bash
# Command-line behaviour: exit statuses, error messages, input validation
# before any packet is read.
set -u
bin=${1:?usage: cli.sh FLUXAUDIT}
root=${FLUXAUDIT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$root/tests/data/e2e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0

# expect STATUS PATTERN -- COMMAND...: runs COMMAND, checks its exit status
# and that its stderr+stdout matches the extended regex PATTERN.
expect() {
    local want=$1 pattern=$2
    shift 3
    local out status
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want" ]; then
        echo "FAIL: '$*' exited $status, expected $want"; echo "$out" | head -20
        failures=$((failures + 1)); return
    fi
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
        echo "FAIL: '$*' output does not match /$pattern/"; echo "$out" | head -20
        failures=$((failures + 1)); return
    fi
    passes=$((passes + 1))
}

expect 2 'usage:' -- "$bin"
expect 0 'usage:' -- "$bin" --help
expect 0 '^fluxaudit [0-9]' -- "$bin" --version
expect 2 'unknown command "frobnicate"' -- "$bin" frobnicate
expect 2 'no capture file given' -- "$bin" replay --matrix "$data/corpus-matrix.json"
expect 2 '--matrix is required' -- "$bin" replay "$tmp/none.pcap"
expect 2 'unknown severity "severe"' -- "$bin" replay x.pcap --matrix m.json --fail-on severe
expect 2 'max-flows: expected a number' -- "$bin" replay x.pcap --matrix m.json --max-flows 0
expect 2 'cannot open' -- "$bin" replay "$tmp/none.pcap" --matrix "$data/corpus-matrix.json"
echo "not a capture" > "$tmp/text.pcap"
expect 2 'not a pcap or pcapng file' -- "$bin" replay "$tmp/text.pcap" --matrix "$data/corpus-matrix.json"
# A bad matrix is refused with every error, before any capture file is read.
expect 2 'bad-matrix.json:6:21: .*10.0.0.300' -- "$bin" replay "$tmp/none.pcap" --matrix "$data/bad-matrix.json"
expect 2 'bad-matrix.json:8:83: .*http' -- "$bin" matrix check "$data/bad-matrix.json"
expect 0 'ok \(1 devices, 1 hosts, 4 flows' -- "$bin" matrix check "$data/corpus-matrix.json"
# A window error points at the offending character inside the string.
expect 2 'bad-window.json:10:54: error: "window": invalid time "25:00"' -- "$bin" matrix check "$data/bad-window.json"
expect 2 'unknown subcommand "frob"' -- "$bin" matrix frob x
expect 2 'capture: -i IFACE is required' -- "$bin" capture --matrix "$data/corpus-matrix.json"
expect 2 'no-such-if0' -- "$bin" capture -i no-such-if0 --matrix "$data/corpus-matrix.json"
expect 2 'cannot write the report' -- "$bin" replay "$root/pcaps/http.pcap" --matrix "$data/corpus-matrix.json" --report /nonexistent/dir/r.json

if [ -f "$root/pcaps/tls10.pcap" ] && [ -f "$root/pcaps/reference-matrix.json" ]; then
    m=$root/pcaps/reference-matrix.json
    expect 1 'TLS_OBSOLETE_VERSION' -- "$bin" replay "$root/pcaps/tls10.pcap" --matrix "$m" --no-color
    expect 0 'TLS_OBSOLETE_VERSION' -- "$bin" replay "$root/pcaps/tls10.pcap" --matrix "$m" --fail-on none
    expect 1 '' -- "$bin" replay "$root/pcaps/tls10.pcap" --matrix "$m" --fail-on low -q
    expect 0 '^$' -- "$bin" replay "$root/pcaps/tls12.pcap" --matrix "$m" -q
    # Reports go to stdout with "-"; the summary then goes to stderr.
    expect 1 '"format":[[:space:]]*"fluxaudit-report/1"' -- "$bin" replay "$root/pcaps/tls10.pcap" --matrix "$m" --report -
    # Every report format at once; each file holds its format.
    expect 1 '' -- "$bin" replay "$root/pcaps/reference.pcap" --matrix "$m" -q --report "$tmp/r.json" \
        --html "$tmp/r.html" --csv "$tmp/r.csv" --syslog "$tmp/r.log"
    expect 0 '^<!DOCTYPE html>' -- head -c 15 "$tmp/r.html"
    expect 0 '^site,device,verdict,code,' -- head -1 "$tmp/r.csv"
    expect 0 '^<1[0-9][0-9]>1 [0-9T:-]+Z ' -- head -1 "$tmp/r.log"
    # One syslog event per finding of the JSON report.
    findings=$(/usr/bin/python3 -c 'import json,sys; print(sum(len(d["findings"]) for d in json.load(open(sys.argv[1]))["devices"]))' "$tmp/r.json")
    expect 0 "^$findings\$" -- grep -c '' "$tmp/r.log"
    expect 2 'cannot write the report' -- "$bin" replay "$root/pcaps/tls12.pcap" --matrix "$m" --html /nonexistent/r.html
    expect 2 'cannot write the report' -- "$bin" replay "$root/pcaps/tls12.pcap" --matrix "$m" --csv /nonexistent/r.csv
    # learn -> replay: a matrix learned from the captures declares every flow.
    expect 0 '' -- "$bin" learn "$root/pcaps/reference.pcap" "$root/pcaps/crypto.pcap" \
        --device 10.10.1.20,02:00:0a:0a:01:14 -o "$tmp/draft.json"
    expect 0 'ok \(1 devices' -- "$bin" matrix check "$tmp/draft.json"
    "$bin" replay "$root/pcaps/reference.pcap" "$root/pcaps/crypto.pcap" --matrix "$tmp/draft.json" \
        --fail-on none --report "$tmp/learned.json" -q
    if grep -Eq 'FLOW_UNDECLARED|FLOW_INTERNET_UNDECLARED|SERVICE_UNDECLARED|FLOW_NOT_OBSERVED' "$tmp/learned.json"; then
        echo "FAIL: replay with the learned matrix still has undeclared or unobserved flows"
        failures=$((failures + 1))
    else
        passes=$((passes + 1))
    fi
    expect 2 '--device ADDR is required' -- "$bin" learn "$root/pcaps/reference.pcap"
    # CSV matrices: JSON -> CSV (with its companions) -> the same audit.
    expect 0 '' -- "$bin" matrix convert "$m" -o "$tmp/ref.csv"
    expect 0 'ok \(1 devices, 4 hosts, 5 flows' -- "$bin" matrix check "$tmp/ref.csv"
    "$bin" replay "$root/pcaps/reference.pcap" --matrix "$tmp/ref.csv" --report "$tmp/csv.json" -q --fail-on none
    "$bin" replay "$root/pcaps/reference.pcap" --matrix "$m" --report "$tmp/json.json" -q --fail-on none
    if /usr/bin/python3 "$root/tests/e2e/compare_reports.py" "$tmp/json.json" "$tmp/csv.json" >/dev/null 2>&1 ||
        [ "$(/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(a["devices"]==b["devices"])' "$tmp/json.json" "$tmp/csv.json")" = True ]; then
        passes=$((passes + 1))
    else
        echo "FAIL: the CSV form of the matrix does not audit like its JSON form"; failures=$((failures + 1))
    fi
    expect 2 '-o OUT.json or -o OUT.csv is required' -- "$bin" matrix convert "$m" -o "$tmp/x.txt"
    # MUD import over an inventory; its warnings are shown, loading succeeds.
    expect 0 'warning: ACE "no-telnet" drops traffic' -- "$bin" matrix check \
        "$root/tests/data/mud/infusion_pump.inventory.json" --mud "$root/tests/data/mud/infusion_pump.json"
    # The campaign store: two replays merge; report --db renders every format.
    expect 1 '' -- "$bin" replay "$root/pcaps/reference.pcap" --matrix "$m" --db "$tmp/c.db" -q
    expect 1 '' -- "$bin" replay "$root/pcaps/tls10.pcap" --matrix "$m" --db "$tmp/c.db" -q
    expect 1 '"connections":[[:space:]]+3' -- "$bin" report --db "$tmp/c.db" --format json
    expect 1 '^<!DOCTYPE html>' -- "$bin" report --db "$tmp/c.db" --format html
    expect 0 '^site,device' -- "$bin" report --db "$tmp/c.db" --format csv --fail-on none
    expect 2 'unknown --format "pdf"' -- "$bin" report --db "$tmp/c.db" --format pdf
    expect 2 'report: --db is required' -- "$bin" report --format json
    # Wi-Fi networks are listed on the terminal, the weak ones counted.
    expect 1 '5 Wi-Fi networks seen, 2 with weak security' -- "$bin" replay "$root/pcaps/wifi.pcap" \
        --matrix "$root/pcaps/health-matrix.json" --no-color
    # No progress line when stderr is not a terminal.
    "$bin" replay "$root/pcaps/reference.pcap" --matrix "$m" --fail-on none >/dev/null 2>"$tmp/err"
    if grep -q 'packets/s' "$tmp/err"; then
        echo "FAIL: progress line written to a non-terminal stderr"; failures=$((failures + 1))
    else
        passes=$((passes + 1))
    fi
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
