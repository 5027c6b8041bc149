#!/bin/bash
# One command for a fresh Debian 12 machine: install what is missing, build
# fluxaudit, and audit the bundled reference capture against its matrix.
# The JSON report is written to build-release/reference-report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -d build-release ] || meson setup build-release --buildtype=release -Dtests=false
ninja -C build-release
set +e
build-release/src/fluxaudit replay pcaps/reference.pcap --matrix pcaps/reference-matrix.json \
    --report build-release/reference-report.json
status=$?
set -e
echo
echo "report: build-release/reference-report.json (exit status $status: 1 means the reference"
echo "capture has findings at or above --fail-on high, as it is meant to)"
[ "$status" -le 1 ]
