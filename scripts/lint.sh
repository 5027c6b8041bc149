#!/bin/bash
# Static analysis as configured in the repository: clang-tidy (.clang-tidy)
# and cppcheck (the options below) on every source file of src/.
#   lint.sh BUILD_DIR   (a meson build dir, for compile_commands.json)
set -u
cd "$(dirname "$0")/.."
build=${1:-build-test}
status=0
mapfile -t sources < <(git ls-files 'src/*.c' 'src/**/*.c')
if command -v clang-tidy >/dev/null; then
    if ! clang-tidy -quiet -p "$build" "${sources[@]}" 2>/dev/null; then
        echo "clang-tidy: findings above"; status=1
    else
        echo "clang-tidy: clean (${#sources[@]} files)"
    fi
else
    echo "clang-tidy not installed (apt-get install clang-tidy)"; status=1
fi
if command -v cppcheck >/dev/null; then
    if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
        --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
        -Iinclude -Isrc "${sources[@]}"; then
        echo "cppcheck: findings above"; status=1
    else
        echo "cppcheck: clean (${#sources[@]} files)"
    fi
else
    echo "cppcheck not installed (apt-get install cppcheck)"; status=1
fi
exit $status
