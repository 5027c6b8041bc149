#!/usr/bin/python3
"""End-to-end test: replay a reference capture with its matrix, validate the
report against docs/report.schema.json and compare it with the reviewed
golden file.

Volatile fields are normalised before the comparison: `generated_at` is
dropped and paths are reduced to their base name. Capture timestamps are
kept: the reference captures are fixed files.

  golden.py --binary B --matrix M --pcap P --golden G [--update]

--update rewrites G from the current output (review the diff before
committing it).
"""
import argparse
import difflib
import json
import os
import subprocess
import shutil
import sys
import tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "docs", "report.schema.json")


def normalise(report):
    report.pop("generated_at", None)
    matrix = report.get("matrix", {})
    if matrix.get("path"):
        matrix["path"] = os.path.basename(matrix["path"])
    capture = report.get("capture", {})
    capture["sources"] = [os.path.basename(s) for s in capture.get("sources", [])]
    return report


def validate(report, label):
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    for error in errors:
        path = "/".join(str(p) for p in error.path)
        print(f"{label}: schema: /{path}: {error.message}", file=sys.stderr)
    return not errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--matrix", required=True)
    parser.add_argument("--pcap", required=True, nargs="+")
    parser.add_argument("--golden", required=True)
    parser.add_argument("--expect-status", type=int, default=None,
                        help="expected exit status of fluxaudit (default: 0 or 1)")
    parser.add_argument("--mud", help="an RFC 8520 MUD file imported over --matrix")
    parser.add_argument("--forbid", action="append", default=[],
                        help="a secret planted in the capture that must appear in no output")
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="fluxaudit-golden-")
    out_path = os.path.join(workdir, os.path.basename(args.golden))
    cmd = [args.binary, "replay", *args.pcap, "--matrix", args.matrix,
           "--report", out_path, "--no-color"]
    if args.mud:
        cmd += ["--mud", args.mud]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    allowed = {args.expect_status} if args.expect_status is not None else {0, 1}
    if proc.returncode not in allowed:
        print(f"FAIL: {' '.join(cmd)} exited {proc.returncode}, expected {sorted(allowed)}",
              file=sys.stderr)
        return 1
    if "runtime error" in proc.stderr or "Sanitizer" in proc.stderr:
        print("FAIL: sanitizer report", file=sys.stderr)
        return 1
    with open(out_path, encoding="utf-8") as f:
        raw_report = f.read()
    shutil.rmtree(workdir, ignore_errors=True)
    for secret in args.forbid:
        for label, text in (("report", raw_report), ("stdout", proc.stdout),
                            ("stderr", proc.stderr)):
            if secret.lower() in text.lower():
                print(f"FAIL: planted secret {secret!r} appears in the {label}", file=sys.stderr)
                return 1
    actual = normalise(json.loads(raw_report))
    ok = validate(actual, "actual report")
    actual_text = json.dumps(actual, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if args.update:
        with open(args.golden, "w", encoding="utf-8") as f:
            f.write(actual_text)
        print(f"updated {args.golden}")
        return 0 if ok else 1
    if not os.path.exists(args.golden):
        print(f"FAIL: no golden file {args.golden} (run with --update and review it)",
              file=sys.stderr)
        return 1
    with open(args.golden, encoding="utf-8") as f:
        golden = json.load(f)
    ok = validate(golden, args.golden) and ok
    golden_text = json.dumps(golden, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if golden_text != actual_text:
        sys.stdout.writelines(difflib.unified_diff(
            golden_text.splitlines(True), actual_text.splitlines(True),
            fromfile=args.golden, tofile="actual"))
        print("FAIL: report differs from the golden file", file=sys.stderr)
        return 1
    print(f"ok: {os.path.basename(args.golden)} matches and validates")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
