#!/bin/bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. warnings-as-errors build; Check unit tests, golden end-to-end tests,
#      CLI tests, the third-party corpus, the live capture test;
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. libFuzzer targets, briefly (FUZZ_SECONDS, default 20 s each);
#   4. the web UI in headless Chromium (tests/browser);
#   5. clang-tidy and cppcheck as configured in the repository.
# Ends with one line "N passed, N failed[, N skipped]"; exits non-zero if
# anything failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
skipped=0
failed_names=()

record() { # record NAME STATUS(0 ok, 77 skip, else fail)
    case "$2" in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); failed_names+=("$1") ;;
    esac
}

# Adds the results of a meson test run from its JSON log.
count_meson() { # count_meson BUILD_DIR LABEL
    local log=$1/meson-logs/testlog.json
    if [ ! -s "$log" ]; then
        record "$2: no test log" 1
        return
    fi
    while read -r result name; do
        case "$result" in
            OK|EXPECTEDFAIL) record "$2 $name" 0 ;;
            SKIP) record "$2 $name" 77 ;;
            *) record "$2 $name" 1 ;;
        esac
    done < <(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["result"], t["name"])' "$log")
}

run_meson_build() { # run_meson_build DIR LABEL [meson setup options...]
    local dir=$1 label=$2
    shift 2
    echo "=== $label: build ($dir)"
    if [ ! -d "$dir" ]; then
        meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
            { cat "$dir.setup.log"; record "$label: meson setup" 1; return; }
    else
        meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null 2>&1
    fi
    if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
        tail -50 "$dir.build.log"; record "$label: build" 1; return
    fi
    echo "=== $label: tests"
    rm -f "$dir/meson-logs/testlog.json"
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
        --timeout-multiplier "${TIMEOUT_MULTIPLIER:-1}" | grep -vE '^ *$'
    count_meson "$dir" "$label"
}

run_meson_build build-test "gcc -Werror" --buildtype=debugoptimized

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export CK_FORK=no
TIMEOUT_MULTIPLIER=3 run_meson_build build-asan "asan+ubsan" --buildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false
unset CK_FORK

echo "=== fuzz: build"
if command -v clang >/dev/null; then
    if [ ! -d build-fuzz ]; then
        CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
            -Db_lundef=false --buildtype=debugoptimized >build-fuzz.setup.log 2>&1
    fi
    if ninja -C build-fuzz >build-fuzz.build.log 2>&1; then
        echo "=== fuzz: run (${FUZZ_SECONDS:-20} s per target)"
        while read -r line; do
            echo "$line"
            case "$line" in
                "fuzz "*": ok"*) record "$line" 0 ;;
                "fuzz "*": FAILED"*) record "$line" 1 ;;
            esac
        done < <(tests/fuzz/run.sh build-fuzz "${FUZZ_SECONDS:-20}")
    else
        tail -30 build-fuzz.build.log; record "fuzz: build" 1
    fi
else
    echo "SKIP: clang not installed, no fuzzing"; record "fuzz" 77
fi

echo "=== browser UI (headless Chromium, playwright-core)"
tests/browser/run.sh build-test build-test/browser-artefacts
record "browser UI" $?

echo "=== static analysis"
scripts/lint.sh build-test
record "lint (clang-tidy, cppcheck)" $?

echo
if [ "$failed" -gt 0 ]; then
    printf 'failed: %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
