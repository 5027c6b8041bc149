#!/bin/bash
# Runs every built fuzz target for SECONDS (default 30) on a copy of its
# seed corpus. Exits non-zero if a target finds a crash, a leak or a
# sanitizer report. Usage: run.sh BUILD_DIR [SECONDS]
set -u
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for target in "$build"/tests/fuzz/fuzz_*; do
    [ -f "$target" ] && [ -x "$target" ] || continue
    name=$(basename "$target"); name=${name#fuzz_}
    mkdir -p "$work/$name"
    seeds=()
    [ -d "$here/corpus/$name" ] && seeds=("$here/corpus/$name")
    if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$name-" "$work/$name" "${seeds[@]}" >"$work/$name.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$work/$name.log" | grep -Eo '[0-9]+' || echo '?') runs in ${seconds}s)"
        passed=$((passed + 1))
    else
        echo "fuzz $name: FAILED"; tail -40 "$work/$name.log"
        mkdir -p "$build/fuzz-artifacts"; cp "$work/$name"-* "$build/fuzz-artifacts/" 2>/dev/null
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
