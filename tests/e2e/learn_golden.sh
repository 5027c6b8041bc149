#!/bin/bash
# learn on the reference and crypto captures: the draft matrix equals its
# reviewed golden, loads, and a replay against it declares every flow (no
# undeclared or unobserved flow), its report validating against the schema.
#   learn_golden.sh FLUXAUDIT GOLDEN_MATRIX GOLDEN_PY [--update]
set -u
bin=${1:?} golden=${2:?} golden_py=${3:?}
root=${FLUXAUDIT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pcaps=("$root/pcaps/reference.pcap" "$root/pcaps/crypto.pcap")
"$bin" learn "${pcaps[@]}" --device 10.10.1.20,02:00:0a:0a:01:14 -o "$tmp/draft.json" || exit 1
if [ "${4:-}" = "--update" ]; then
    cp "$tmp/draft.json" "$golden"; echo "updated $golden"; exit 0
fi
failures=0
if ! diff -u "$golden" "$tmp/draft.json"; then
    echo "FAIL: the learned draft differs from $golden"; failures=$((failures + 1))
fi
"$bin" replay "${pcaps[@]}" --matrix "$tmp/draft.json" --report "$tmp/r.json" --fail-on none -q ||
    failures=$((failures + 1))
if grep -Eq '"code":[[:space:]]*"(FLOW_UNDECLARED|FLOW_INTERNET_UNDECLARED|SERVICE_UNDECLARED|FLOW_NOT_OBSERVED)"' "$tmp/r.json"; then
    echo "FAIL: a replay against the learned matrix still has undeclared or unobserved flows"
    failures=$((failures + 1))
fi
/usr/bin/python3 - "$tmp/r.json" "$root/docs/report.schema.json" <<'PY' || failures=$((failures + 1))
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[2]))).validate(json.load(open(sys.argv[1])))
PY
if grep -qi planted "$tmp/draft.json"; then
    echo "FAIL: a planted secret reached the draft"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "ok: learned draft matches its golden and declares every flow"
[ "$failures" -eq 0 ]
