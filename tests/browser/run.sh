#!/bin/bash
# Real-browser test of the web UI (tests/browser/README.md).
#   tests/browser/run.sh [BUILD_DIR [ARTEFACT_DIR]]
# BUILD_DIR holds src/fluxaudit (default build-test); screenshots and the
# PDF go to ARTEFACT_DIR (default BUILD_DIR/browser-artefacts).
#
# Builds a campaign from pcaps/reference.pcap then pcaps/tls10.pcap (merged in
# one database), serves it twice (without login, and with an accounts file),
# runs ui.test.mjs in headless Debian Chromium through playwright-core, stops
# the servers. Last line: "N passed, N failed". Exit 0 when all passed, 1 on a
# failure, 77 (skipped) when node, npm or chromium is missing or the node
# packages cannot be installed; BROWSER_TEST_REQUIRED=1 turns a skip into a
# failure. Never downloads a browser.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build-test}" 2>/dev/null && pwd) || {
    echo "browser: no build directory ${1:-$root/build-test}"; echo "0 passed, 1 failed"; exit 1; }
artefacts=${2:-$build/browser-artefacts}
fluxaudit=$build/src/fluxaudit
chromium_bin=${FA_CHROMIUM:-/usr/bin/chromium}

skip() {
    echo "SKIP: browser test: $*"
    if [ "${BROWSER_TEST_REQUIRED:-0}" = 1 ]; then
        echo "0 passed, 1 failed"; exit 1
    fi
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
}
fail() { echo "FAIL: browser test: $*"; echo "0 passed, 1 failed"; exit 1; }

command -v node >/dev/null || skip "node not installed (Debian package nodejs)"
command -v npm >/dev/null || skip "npm not installed (Debian package npm)"
[ -x "$chromium_bin" ] || skip "$chromium_bin not installed (Debian package chromium)"
[ -x "$fluxaudit" ] || fail "$fluxaudit not built"

# Node packages from the lockfile (playwright-core only; it downloads nothing
# when installed: browsers come only from `playwright install`, never run here).
wanted=$(node -e \
    'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' \
    "$here/package-lock.json")
have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
    "$here/node_modules/playwright-core/package.json" 2>/dev/null)
if [ "$have" != "$wanted" ]; then
    echo "browser: npm ci (playwright-core $wanted)"
    (cd "$here" &&
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline) \
        >"$build/browser-npm.log" 2>&1 ||
        { tail -5 "$build/browser-npm.log"; skip "npm ci failed (no access to the npm registry?)"; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$artefacts"
rm -f "$artefacts"/*.png "$artefacts"/*.pdf "$artefacts"/*.csv

# The campaign: two replays merged into one database. Paths stay relative to
# the repository root, as the test checks the sources the overview names.
cd "$root" || fail "cd $root"
"$fluxaudit" replay pcaps/reference.pcap --matrix pcaps/reference-matrix.json \
    --db "$tmp/c.db" --fail-on none -q || fail "replay pcaps/reference.pcap"
"$fluxaudit" replay pcaps/tls10.pcap --matrix pcaps/reference-matrix.json \
    --db "$tmp/c.db" --fail-on none -q || fail "replay pcaps/tls10.pcap"

# A throwaway account: random password, passed to the test in its environment
# only, never printed.
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" | "$fluxaudit" account add tester --accounts "$tmp/accounts" -q ||
    fail "account add"

# start NAME ARGS...: serves on a free loopback port; sets $url.
start() {
    local name=$1 _
    shift
    "$fluxaudit" serve --db "$tmp/c.db" --web 127.0.0.1:0 "$@" 2>"$tmp/$name.err" &
    pids+=($!)
    url=
    for _ in $(seq 100); do
        url=$(sed -n 's|.* on \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$tmp/$name.err" | head -1)
        if [ -n "$url" ] && curl -sf "$url/api/health" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/$name.err"
    fail "fluxaudit serve ($name) did not answer /api/health"
}
command -v curl >/dev/null || skip "curl not installed"
start open
open_url=$url
start login --accounts "$tmp/accounts"
login_url=$url

echo "browser: $open_url (no login), $login_url (login); artefacts in $artefacts"
# TAP into a file for the counts, the readable report on stdout. TMPDIR:
# playwright's fresh user-data-dir goes under $tmp and is removed with it.
(cd "$here" && TMPDIR=$tmp FA_URL=$open_url FA_LOGIN_URL=$login_url FA_USER=tester \
    FA_PASSWORD=$password FA_ARTEFACTS=$artefacts FA_CHROMIUM=$chromium_bin \
    timeout 300 node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tmp/tap" ui.test.mjs)
status=$?
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tmp/tap" 2>/dev/null | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tmp/tap" 2>/dev/null | tail -1)
skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tmp/tap" 2>/dev/null | tail -1)
passed=${passed:-0}
failed=${failed:-0}
skipped=${skipped:-0}
# A runner that died, or counted no test, has failed.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1

echo "browser artefacts in $artefacts:" "$(cd "$artefacts" && echo *)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
