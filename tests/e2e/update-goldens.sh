#!/bin/bash
# Rewrites every golden report from the current build, for review with
# `git diff tests/golden` before committing. Usage: update-goldens.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: update-goldens.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/src/fluxaudit
update() { # update MATRIX NAME...
    local matrix=$1
    shift
    for name in "$@"; do
        /usr/bin/python3 "$root/tests/e2e/golden.py" --binary "$bin" --matrix "$root/pcaps/$matrix" \
            --pcap "$root/pcaps/$name.pcap" --golden "$root/tests/golden/$name.json" --update
    done
}
update reference-matrix.json tls12 tls13 tls10 tls-client13-server10 http dns undeclared \
    inbound-public internet-outbound internet-undeclared http-basic-auth reference
update crypto-matrix.json tls11 tls12-3des tls12-null tls12-anon cert-rsa1024 cert-sha1 \
    cert-selfsigned cert-expired http-basic-auth-nondefault ftp-login ftp-refused snmp-public \
    snmp-nondefault ldap-bind pop3-login imap-login smtp-auth telnet-login crypto
update health-matrix.json dicom-store dicom-echo dicom-tls hl7-mllp fhir-http radius-eap-md5 \
    radius-peap health wifi-beacons wifi-open-assoc wifi-psk-assoc wifi-eap-md5 wifi
# The other matrix forms (tests/e2e/meson.build).
python3=/usr/bin/python3
"$python3" "$root/tests/e2e/golden.py" --binary "$bin" --matrix "$root/tests/data/e2e/csv/reference.csv" \
    --pcap "$root/pcaps/reference.pcap" --golden "$root/tests/golden/reference-csv.json" --update
"$python3" "$root/tests/e2e/golden.py" --binary "$bin" \
    --matrix "$root/tests/data/e2e/mud/infulink.inventory.json" \
    --mud "$root/tests/data/e2e/mud/infulink.mud.json" --pcap "$root/pcaps/reference.pcap" \
    --golden "$root/tests/golden/reference-mud.json" --update
"$root/tests/e2e/learn_golden.sh" "$bin" "$root/tests/golden/learned-reference-matrix.json" \
    "$root/tests/e2e/golden.py" --update
