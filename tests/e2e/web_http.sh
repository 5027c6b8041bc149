#!/bin/bash
# HTTP tests of the web UI with curl and openssl (docs/web.md, "Security"):
# TLS 1.0/1.1 refused and 1.2/1.3 accepted; bad paths, a 64 KiB header and
# odd queries answered with 4xx while the server keeps serving; login
# required when accounts exist.
#
#   web_http.sh WEB_DRIVER
#
# WEB_DRIVER is tests/e2e/web_driver (it replays pcaps/reference.pcap and
# serves the snapshot). Exits 77 (skipped) when curl or openssl is missing.
set -u
driver=${1:?usage: web_http.sh WEB_DRIVER}
root=${FLUXAUDIT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
for tool in curl openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (needed by the web HTTP tests)"
        exit 77
    fi
done
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
passes=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }

# A throwaway self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 ||
    { echo "FAIL: openssl cannot make a certificate"; exit 1; }

# start NAME ARGS...: starts the driver, waits for its address in $addr.
start() {
    local name=$1
    shift
    "$driver" serve --matrix "$root/pcaps/reference-matrix.json" \
        --pcap "$root/pcaps/reference.pcap" --listen 127.0.0.1:0 "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    eval "${name}_pid=$!"
    for _ in $(seq 1 300); do
        addr=$(sed -n 's/^listening //p' "$tmp/$name.out")
        [ -n "$addr" ] && return 0
        sleep 0.1
    done
    echo "FAIL: $name did not start"; cat "$tmp/$name.err"; exit 1
}

# stop NAME: SIGTERM, and the driver must exit 0 (clean stop, no leak).
stop() {
    local pid_var="${1}_pid"
    local pid=${!pid_var}
    kill -TERM "$pid"
    if wait "$pid"; then pass; else fail "$1 exited $? after SIGTERM"; cat "$tmp/$1.err"; fi
}

# expect_code WANT DESCRIPTION CURL-ARGS...: the HTTP status curl reports.
expect_code() {
    local want=$1 what=$2
    shift 2
    local got
    got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@")
    if [ "$got" = "$want" ]; then pass; else fail "$what: HTTP $got, expected $want"; fi
}

# still_serving BASE: the server still answers its health check.
still_serving() {
    local body
    body=$(curl -sk --max-time 10 "$1/api/health")
    if [ "$body" = "ok" ]; then pass; else fail "server stopped answering after: $2"; fi
}

start tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
base="https://$addr"
echo "TLS server on $addr"

# ---- protocol versions -----------------------------------------------------
# OpenSSL 3 clients refuse TLS 1.0/1.1 themselves at the default security
# level; SECLEVEL=0 lets them offer it, so a failure is the server's refusal.
# The control proves this client really speaks TLS 1.0/1.1 to a server that
# allows them.
weak=(--ciphers 'DEFAULT@SECLEVEL=0')
# s_client_negotiates ADDR VERSION: true when openssl s_client completes a
# handshake of exactly that version (it prints "Protocol : TLSv1.1" even on
# failure; a failed handshake exits non-zero with "Cipher is (NONE)").
s_client_negotiates() {
    local flag=-tls1
    [ "$2" = 1.1 ] && flag=-tls1_1
    local out
    out=$(openssl s_client -connect "$1" "$flag" -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1) &&
        ! grep -q 'Cipher is (NONE)' <<<"$out"
}
control_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null)
if [ -n "$control_port" ]; then
    openssl s_server -accept "127.0.0.1:$control_port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
        -cipher 'DEFAULT@SECLEVEL=0' -www -quiet >/dev/null 2>&1 &
    control_pid=$!
    pids+=($control_pid)
    sleep 0.5
    for v in 1.0 1.1; do
        expect_code 200 "control: curl speaks TLS $v to openssl s_server" -k --tlsv$v \
            --tls-max $v "${weak[@]}" "https://127.0.0.1:$control_port/"
        if s_client_negotiates "127.0.0.1:$control_port" $v; then pass; else
            fail "control: openssl s_client cannot negotiate TLS $v"; fi
    done
    kill "$control_pid" 2>/dev/null
fi
for v in 1.0 1.1; do
    if curl -sk --max-time 10 --tlsv$v --tls-max $v "${weak[@]}" -o /dev/null "$base/api/health"
    then
        fail "TLS $v accepted"
    else
        pass
    fi
    if s_client_negotiates "$addr" "$v"; then
        fail "openssl s_client negotiated TLS $v"
    else
        pass
    fi
done
[ "$(curl -sk --tlsv1.2 --tls-max 1.2 "$base/api/health")" = ok ] && pass || fail "TLS 1.2 refused"
[ "$(curl -sk --tlsv1.3 "$base/api/health")" = ok ] && pass || fail "TLS 1.3 refused"
if curl -skI --tlsv1.2 "$base/api/health" | grep -qi '^strict-transport-security: max-age='; then
    pass
else
    fail "no Strict-Transport-Security over HTTPS"
fi
# Plain HTTP on the HTTPS port gets no answer.
if curl -s --max-time 5 -o /dev/null "http://$addr/api/health"; then
    fail "plain HTTP served"
else
    pass
fi
still_serving "$base" "plain HTTP"

# ---- headers -----------------------------------------------------------------
headers=$(curl -skD - -o /dev/null "$base/api/summary")
for h in "content-security-policy: default-src 'none'; script-src 'self'" \
    'x-content-type-options: nosniff' 'x-frame-options: deny' 'cache-control: no-store' \
    'referrer-policy: no-referrer'; do
    if grep -qiF "$h" <<<"$headers"; then pass; else fail "missing header: $h"; fi
done
expect_code 200 "summary" -k "$base/api/summary"
expect_code 200 "device" -k "$base/api/devices/infusion-gw-1"
expect_code 200 "findings by severity" -k "$base/api/findings?severity=high&status=open"
for f in json html csv syslog; do
    expect_code 200 "report.$f" -k "$base/api/report.$f"
done

# ---- hostile requests: 4xx, and the server goes on -------------------------
check_bad() {
    local want=$1 what=$2
    shift 2
    expect_code "$want" "$what" -k "$@"
    still_serving "$base" "$what"
}
check_bad 400 "GET /../../etc/passwd" --path-as-is "$base/../../etc/passwd"
check_bad 400 "encoded dot segments" "$base/%2e%2e/%2e%2e/etc/passwd"
check_bad 400 "double slash" --path-as-is "$base//api/summary"
check_bad 400 "encoded NUL in the path" "$base/api/summary%00.json"
check_bad 400 "encoded NUL in a query" "$base/api/findings?severity=high%00"
check_bad 400 "unknown parameter" "$base/api/findings?sort=desc"
check_bad 400 "repeated parameter" "$base/api/findings?severity=high&severity=low"
check_bad 400 "unknown severity" "$base/api/findings?severity=severe"
check_bad 400 "unknown device" "$base/api/flows?device=nope"
check_bad 400 "bad escape" "$base/api/findings?code=%G1"
check_bad 400 "parameter without value" "$base/api/findings?severity"
check_bad 404 "unknown path" "$base/etc/passwd"
check_bad 404 "unknown asset" "$base/assets/app.js.map"
check_bad 405 "DELETE" -X DELETE "$base/api/summary"
check_bad 405 "POST to the API" -X POST -d x=y "$base/api/summary"
check_bad 414 "2 KiB query" "$base/api/findings?device=$(head -c 2048 /dev/zero | tr '\0' a)"
check_bad 414 "300-byte path" "$base/$(head -c 300 /dev/zero | tr '\0' a)"
big=$(head -c 65536 /dev/zero | tr '\0' a)
got=$(curl -sk -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/api/health")
case $got in 4[0-9][0-9]) pass ;; *) fail "64 KiB header: HTTP $got, expected 4xx" ;; esac
still_serving "$base" "64 KiB header"
stop tls

# ---- login when accounts exist -----------------------------------------------
echo 'pw-e2e-Kq7' | "$driver" account "$tmp/accounts" alice || fail "account add"
mode=$(stat -c %a "$tmp/accounts")
[ "$mode" = 600 ] && pass || fail "accounts file mode $mode"
grep -q '^alice:\$y\$' "$tmp/accounts" && pass || fail "accounts file: no yescrypt hash"
grep -q 'pw-e2e-Kq7' "$tmp/accounts" && fail "password in clear in the accounts file" || pass
start auth --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --accounts "$tmp/accounts"
base="https://$addr"
expect_code 401 "summary without a session" -k "$base/api/summary"
expect_code 401 "report without a session" -k "$base/api/report.json"
expect_code 303 "overview without a session" -k "$base/"
expect_code 200 "login page" -k "$base/login"
expect_code 200 "health needs no session" -k "$base/api/health"
expect_code 303 "wrong password" -k -d user=alice -d password=wrong "$base/login"
jar="$tmp/cookies"
login_headers=$(curl -sk -D - -o /dev/null -c "$jar" --data-urlencode user=alice \
    --data-urlencode 'password=pw-e2e-Kq7' "$base/login")
if grep -qi '^set-cookie: fluxaudit_session=[0-9a-f]\{64\}; .*HttpOnly; SameSite=Strict; Secure' \
    <<<"$login_headers"; then pass; else fail "no secure session cookie: $login_headers"; fi
expect_code 200 "summary with the session" -k -b "$jar" "$base/api/summary"
expect_code 200 "overview with the session" -k -b "$jar" "$base/"
expect_code 303 "logout" -k -b "$jar" "$base/logout"
expect_code 401 "summary after logout" -k -b "$jar" "$base/api/summary"
for i in 1 2 3 4; do curl -sk -o /dev/null -d user=alice -d password=no "$base/login"; done
expect_code 429 "sixth failed login in a minute" -k -d user=alice -d password=no "$base/login"
stop auth

# Nothing secret in the driver's output.
if grep -q 'pw-e2e-Kq7' "$tmp"/*.out "$tmp"/*.err; then fail "password in the output"; else pass; fi

echo "web_http: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
