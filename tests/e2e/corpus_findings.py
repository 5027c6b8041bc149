#!/usr/bin/python3
"""Findings the auditor must raise on named third-party captures of
../shared/corpus (the test suites of nDPI, tapirx, aircrack-ng, tcpdump):
remote-access tools, insecure SMB and SSH, DTLS 1.0, HL7 in clear, Wi-Fi
security and EAP methods. Each capture is replayed with tests/data/e2e/corpus-matrix.json
(every address is one inventory device) and its report must hold the
expected (code, evidence key, evidence value) and must not hold the
forbidden ones. Skipped (exit 77) when the corpus is absent.

  corpus_findings.py FLUXAUDIT CORPUS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MATRIX = os.path.join(ROOT, "tests", "data", "e2e", "corpus-matrix.json")
# Devices known by MAC only, for the Wi-Fi and 802.1X captures.
WIFI_MATRIX = os.path.join(ROOT, "tests", "data", "e2e", "wifi-matrix.json")

# capture -> (expected findings, findings that must not appear)
CASES = {
    "ndpi/teamviewer.pcap": ([("REMOTE_ACCESS_TOOL", "tool", "TeamViewer")], []),
    "ndpi/anydesk.pcapng": ([("REMOTE_ACCESS_TOOL", "tool", "AnyDesk")],
                            # the DNS lookups of AnyDesk's domain are not sessions
                            [("REMOTE_ACCESS_TOOL", "@app", "DNS")]),
    "ndpi/rdp.pcap": ([("REMOTE_ACCESS_TOOL", "tool", "RDP")], []),
    "ndpi/vnc.pcap": ([("REMOTE_ACCESS_TOOL", "tool", "VNC")], []),
    "ndpi/smbv1.pcap": ([("INSECURE_PROTOCOL", "ndpi_risk", "NDPI_SMB_INSECURE_VERSION")], []),
    "ndpi/ssh.pcap": ([("INSECURE_PROTOCOL", "ndpi_risk",
                        "NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER")], []),
    "ndpi/dtls2.pcap": ([("TLS_OBSOLETE_VERSION", "tls_version", "DTLSv1.0")], []),
    # nDPI's noise: a known protocol on a non-standard port is no finding
    "ndpi/tls_verylong_certificate.pcap": ([], [("INSECURE_PROTOCOL", None, None)]),
    # HL7 v2 over MLLP (tapirx): health data in clear; the DICOM captures hold
    # an association request only, which moves no data set.
    "tapirx/HL7-ADT.pcap": ([("CLEARTEXT_HEALTH_DATA", "message_types", "ADT^A01, ACK")], []),
    "tapirx/HL7-ORU.pcap": ([("CLEARTEXT_HEALTH_DATA", "protocol", "HL7")], []),
    "tapirx/dicom_arq_1_find_testclient.pcap": ([("FLOW_UNDECLARED", "@app", "DICOM")],
                                                [("CLEARTEXT_HEALTH_DATA", None, None)]),
    # 802.11 (aircrack-ng) and RADIUS (tcpdump), devices known by MAC
    "aircrack-ng/wpa2-psk-linksys.cap": ([("WIFI_NOT_ENTERPRISE", "security", "WPA2-PSK")], []),
    "aircrack-ng/wpa3-psk.pcap": ([("WIFI_NOT_ENTERPRISE", "security", "WPA3-SAE")], []),
    "aircrack-ng/wep.open.system.authentication.cap": (
        [("WIFI_WEAK_SECURITY", "security", "WEP")], [("WIFI_NOT_ENTERPRISE", None, None)]),
    "tcpdump/RADIUS.pcap": ([("WIFI_WEAK_EAP", "eap_method", "EAP-MD5")], []),
}
MATRIX_OF = {name: WIFI_MATRIX for name in CASES
             if name.startswith("aircrack-ng/") or name.startswith("tcpdump/")}


def findings_of(binary, pcap, matrix):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        proc = subprocess.run([binary, "replay", pcap, "--matrix", matrix, "--report", out,
                               "--fail-on", "none", "-q"], capture_output=True, text=True,
                              timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{pcap}: exit {proc.returncode}: {proc.stderr}")
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
    return [f for d in report["devices"] for f in d["findings"]]


def matches(finding, code, key, value):
    if finding["code"] != code:
        return False
    if key is None:
        return True
    if key == "@app":
        return finding["flow"]["app"] == value
    return finding["evidence"].get(key) == value


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print(f"SKIP: {corpus} not found (the third-party corpus lives in ../shared/corpus)")
        return 77
    passed = failed = 0
    for name, (expected, forbidden) in CASES.items():
        path = os.path.join(corpus, name)
        if not os.path.exists(path):
            print(f"FAIL: {name} missing from the corpus")
            failed += 1
            continue
        found = findings_of(binary, path, MATRIX_OF.get(name, MATRIX))
        for code, key, value in expected:
            ok = any(matches(f, code, key, value) for f in found)
            print(("ok" if ok else "FAIL") + f": {name}: {code} {key}={value}")
            passed, failed = passed + ok, failed + (not ok)
        for code, key, value in forbidden:
            bad = [f for f in found if matches(f, code, key, value)]
            print(("FAIL" if bad else "ok") + f": {name}: no {code} {key or ''}={value or ''}")
            passed, failed = passed + (not bad), failed + bool(bad)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
