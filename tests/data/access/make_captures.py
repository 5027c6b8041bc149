#!/usr/bin/python3
"""Crafts the reference captures of tests/data/access with scapy.

No radio and no RADIUS server exist where fluxaudit is built, so these
frames are written by hand to cover what the public corpus lacks: an
802.1X (enterprise) network with a full EAP conversation, a WPA3-Enterprise
beacon, an open network carrying unencrypted IP, and RADIUS conversations
with the MAC in Calling-Station-Id. Every address is a locally
administered one (02:...) or from the documentation ranges; the EAP
identity "anonymous" is a placeholder, not a secret.

    /usr/bin/python3 tests/data/access/make_captures.py   # Debian python3-scapy
"""
import os
import struct

from scapy.all import (EAP, EAPOL, IP, LLC, SNAP, UDP, Dot11, Dot11AssoReq, Dot11AssoResp,
                       Dot11Beacon, Dot11Elt, Dot11QoS, Ether, Raw, RadioTap, wrpcap)
from scapy.layers.dns import DNS, DNSQR

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000.0

AP_ENT = "02:00:00:00:0e:01"
AP_WPA3E = "02:00:00:00:0e:02"
AP_GUEST = "02:00:00:00:0e:03"
STA_PUMP = "02:00:00:00:5a:01"
STA_MONITOR = "02:00:00:00:5a:02"


def rsn(akms, caps=0x0000, pairwise=(4,), group=4):
    body = struct.pack("<H", 1) + bytes([0x00, 0x0F, 0xAC, group])
    body += struct.pack("<H", len(pairwise)) + b"".join(bytes([0, 0x0F, 0xAC, c]) for c in pairwise)
    body += struct.pack("<H", len(akms)) + b"".join(bytes([0, 0x0F, 0xAC, a]) for a in akms)
    body += struct.pack("<H", caps)
    return Dot11Elt(ID=48, info=body)


def beacon(bssid, ssid, channel, privacy, *elements):
    cap = 0x0411 if privacy else 0x0401
    frame = (RadioTap() / Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=bssid,
                                addr3=bssid) /
             Dot11Beacon(cap=cap) / Dot11Elt(ID=0, info=ssid.encode()) /
             Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96") / Dot11Elt(ID=3, info=bytes([channel])))
    for element in elements:
        frame = frame / element
    return frame


def eapol_frame(bssid, sta, from_ap, payload):
    if from_ap:
        dot11 = Dot11(type=2, subtype=8, FCfield="from-DS", addr1=sta, addr2=bssid, addr3=bssid)
    else:
        dot11 = Dot11(type=2, subtype=8, FCfield="to-DS", addr1=bssid, addr2=sta, addr3=bssid)
    return RadioTap() / dot11 / Dot11QoS() / LLC() / SNAP(code=0x888E) / payload


def stamp(frames):
    for i, frame in enumerate(frames):
        frame.time = T0 + i
    return frames


def enterprise():
    rsn_ent = rsn([1, 5], caps=0x0080)            # WPA2-Enterprise, PMF capable
    rsn_wpa3e = rsn([5], caps=0x00C0)             # WPA3-Enterprise: AKM 5 + PMF required
    eap = lambda code, ident, type_=None, data=b"": (
        EAPOL(version=2, type=0) / EAP(code=code, id=ident, type=type_) / Raw(data)
        if type_ is not None else EAPOL(version=2, type=0) / EAP(code=code, id=ident))
    frames = [
        beacon(AP_ENT, "Clinic-8021X", 36, True, rsn_ent),
        beacon(AP_WPA3E, "Clinic-WPA3E", 11, True, rsn_wpa3e),
        RadioTap() / Dot11(type=0, subtype=0, addr1=AP_ENT, addr2=STA_PUMP, addr3=AP_ENT) /
        Dot11AssoReq(cap=0x0411) / Dot11Elt(ID=0, info=b"Clinic-8021X") / rsn_ent,
        RadioTap() / Dot11(type=0, subtype=1, addr1=STA_PUMP, addr2=AP_ENT, addr3=AP_ENT) /
        Dot11AssoResp(cap=0x0411, status=0, AID=1),
        eapol_frame(AP_ENT, STA_PUMP, False, EAPOL(version=2, type=1)),
        eapol_frame(AP_ENT, STA_PUMP, True, eap(1, 1, 1)),
        eapol_frame(AP_ENT, STA_PUMP, False, eap(2, 1, 1, b"anonymous")),
        eapol_frame(AP_ENT, STA_PUMP, True, eap(1, 2, 4, b"\x10" + b"\x01" * 16)),
        eapol_frame(AP_ENT, STA_PUMP, False, eap(2, 2, 3, b"\x19")),   # NAK, wants PEAP
        eapol_frame(AP_ENT, STA_PUMP, True, eap(1, 3, 25, b"\x20")),
        eapol_frame(AP_ENT, STA_PUMP, False, eap(2, 3, 25, b"\x00")),
        eapol_frame(AP_ENT, STA_PUMP, True, eap(3, 3)),
    ]
    for i in range(4):
        frames.append(eapol_frame(AP_ENT, STA_PUMP, i % 2 == 0,
                                  EAPOL(version=2, type=3) / Raw(b"\x02" + b"\x00" * 94)))
    # A monitor that only knows LEAP, rejected.
    frames += [
        eapol_frame(AP_ENT, STA_MONITOR, True, eap(1, 7, 17, b"\x01\x00\x08" + b"\x11" * 8)),
        eapol_frame(AP_ENT, STA_MONITOR, False, eap(2, 7, 17, b"\x01\x00\x18" + b"\x22" * 24)),
        eapol_frame(AP_ENT, STA_MONITOR, True, eap(4, 7)),
    ]
    wrpcap(os.path.join(HERE, "enterprise.pcap"), stamp(frames))


def open_data():
    # Radiotap with the Flags field announcing an FCS at the end.
    rt = RadioTap(present="Flags", Flags="FCS")
    frames = [
        rt / Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=AP_GUEST, addr3=AP_GUEST) /
        Dot11Beacon(cap=0x0401) / Dot11Elt(ID=0, info=b"Guest") / Dot11Elt(ID=3, info=b"\x06") /
        Raw(b"\xde\xad\xbe\xef"),
        rt / Dot11(type=2, subtype=0, FCfield="to-DS", addr1=AP_GUEST, addr2=STA_MONITOR,
                   addr3="02:00:00:00:99:99") /
        LLC() / SNAP(code=0x0800) /
        IP(src="192.0.2.50", dst="198.51.100.53") / UDP(sport=40000, dport=53) /
        DNS(rd=1, qd=DNSQR(qname="example.org")) / Raw(b"\xca\xfe\xba\xbe"),
    ]
    wrpcap(os.path.join(HERE, "open-data.pcap"), stamp(frames))


def radius_attr(type_, value):
    return bytes([type_, len(value) + 2]) + value


def radius(code, ident, attrs):
    body = b"".join(attrs)
    return struct.pack(">BBH", code, ident, 20 + len(body)) + b"\x5a" * 16 + body


def eap_bytes(code, ident, type_=None, data=b""):
    if type_ is None:
        return struct.pack(">BBH", code, ident, 4)
    return struct.pack(">BBHB", code, ident, 5 + len(data), type_) + data


def radius_exchange():
    nas, server = "192.0.2.2", "192.0.2.10"
    nas_mac, server_mac = "02:00:00:00:0a:02", "02:00:00:00:0a:10"

    def packet(src, dst, payload, to_server=True):
        ether = Ether(src=nas_mac, dst=server_mac) if to_server else Ether(src=server_mac,
                                                                         dst=nas_mac)
        ports = UDP(sport=50000, dport=1812) if to_server else UDP(sport=1812, dport=50000)
        return ether / IP(src=src, dst=dst) / ports / Raw(payload)

    tls_response = eap_bytes(2, 2, 13, b"\x80" + b"\x16" * 60)
    frames = [
        # Pump: EAP-TLS, accepted; its Response split over two EAP-Message attributes.
        packet(nas, server, radius(1, 10, [
            radius_attr(1, b"anonymous"),
            radius_attr(31, b"02-00-00-00-5A-01"),
            radius_attr(79, eap_bytes(2, 1, 1, b"anonymous")),
            radius_attr(80, b"\x00" * 16)])),
        packet(server, nas, radius(11, 10, [radius_attr(79, eap_bytes(1, 2, 13, b"\x20"))]),
               to_server=False),
        packet(nas, server, radius(1, 11, [
            radius_attr(31, b"02-00-00-00-5A-01"),
            radius_attr(79, tls_response[:3]),
            radius_attr(79, tls_response[3:])])),
        packet(server, nas, radius(2, 11, [radius_attr(79, eap_bytes(3, 2))]), to_server=False),
        # Monitor: EAP-MD5 (a password hash in the clear), rejected.
        packet(nas, server, radius(1, 20, [
            radius_attr(31, b"0200.0000.5a02"),
            radius_attr(79, eap_bytes(2, 5, 1, b"anonymous"))])),
        packet(server, nas, radius(11, 20, [radius_attr(79, eap_bytes(1, 6, 4,
                                                                      b"\x10" + b"\x01" * 16))]),
               to_server=False),
        packet(nas, server, radius(1, 21, [
            radius_attr(31, b"0200.0000.5a02"),
            radius_attr(79, eap_bytes(2, 6, 4, b"\x10" + b"\x02" * 16))])),
        packet(server, nas, radius(3, 21, [radius_attr(79, eap_bytes(4, 6))]), to_server=False),
    ]
    wrpcap(os.path.join(HERE, "radius-eap.pcap"), stamp(frames))


if __name__ == "__main__":
    enterprise()
    open_data()
    radius_exchange()
