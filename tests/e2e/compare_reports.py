#!/usr/bin/python3
"""Compares two fluxaudit reports for equality of everything but time:
timestamps, sources, drop counters and flow-table counters (which depend
on timing) are normalised away. Used by the
live-capture test (a live capture of a replayed file must report what a
replay of that file reports).

  compare_reports.py EXPECTED.json ACTUAL.json
"""
import difflib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden import normalise, validate  # noqa: E402

TIME_KEYS = {"first_seen", "last_seen", "generated_at"}


def strip_times(node):
    if isinstance(node, dict):
        return {k: ("<time>" if k in TIME_KEYS and v is not None else strip_times(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [strip_times(v) for v in node]
    return node


def load(path):
    with open(path, encoding="utf-8") as f:
        report = normalise(json.load(f))
    ok = validate(report, path)
    report["capture"]["sources"] = ["<source>"]
    report["capture"]["dropped"] = 0
    # When idle flows end depends on timing, not on what was seen.
    report["capture"].pop("flows", None)
    return strip_times(report), ok


def main():
    expected, ok_a = load(sys.argv[1])
    actual, ok_b = load(sys.argv[2])
    a = json.dumps(expected, indent=2).splitlines(True)
    b = json.dumps(actual, indent=2).splitlines(True)
    if a != b:
        sys.stdout.writelines(difflib.unified_diff(a, b, "replay", "live"))
        return 1
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
