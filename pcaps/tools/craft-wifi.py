#!/usr/bin/python3
"""Crafts the Wi-Fi captures of the health set (pcaps/wifi-*.pcap) with scapy.

CRAFTED FRAMES, NOT A REAL RADIO: no Wi-Fi adapter in monitor mode exists
where the captures are made, and mac80211_hwsim would need a kernel module
and hostapd/wpa_supplicant in every namespace. So these 802.11 frames are
written by hand, field by field as IEEE 802.11-2020 lays them out, with a
radiotap header (link type 127, DLT_IEEE802_11_RADIO). Every README line of
a wifi-*.pcap says "crafted".

What is real: the structure (beacons with SSID, rates, DS parameter set and
RSN elements; authentication, association request/response; EAPOL-Key
descriptors of a 4-way handshake with the standard key-information bits;
EAP-MD5 with the real MD5 response of RFC 3748 section 5.4; an IPv4/UDP DNS
query in an unencrypted data frame). What is not: the EAPOL-Key nonces and
MICs are fixed placeholder bytes (no PTK is derived: no passphrase exists),
and the timestamps are fixed so that the files are identical from one run
to the next.

    /usr/bin/python3 pcaps/tools/craft-wifi.py OUTPUT_DIR   # Debian python3-scapy

The EAP-MD5 password comes from the environment (FXA_EAP_MD5_PASSWORD),
never from the command line; it is a planted test value listed in
pcaps/README.md. It does not appear in the capture: only MD5(id, password,
challenge) does.
"""
import hashlib
import os
import struct
import sys

from scapy.all import (EAP, EAPOL, IP, LLC, SNAP, UDP, Dot11, Dot11AssoReq, Dot11AssoResp,
                       Dot11Auth, Dot11Beacon, Dot11Elt, Dot11QoS, RadioTap, Raw, wrpcap)
from scapy.layers.dns import DNS, DNSQR, DNSRR

# 2025-11-24T08:00:00Z: fixed, so that a regeneration gives the same bytes.
T0 = 1763971200.0
TU = 1.024e-3  # one 802.11 time unit, in seconds

DEVICE = "02:00:0a:0a:01:14"      # infusion-gw-1 (the device of every set)
MONITOR = "02:00:0a:0a:01:15"     # monitor-wifi-2
ANALYSER = "02:00:0a:0a:01:16"    # analyser-8021x
ROUTER = "02:00:0a:0a:00:01"      # the site router (wired side, behind the APs)

# One access point (BSSID) per network.
NETWORKS = {
    "open": dict(bssid="02:00:0a:0a:0e:01", ssid="HOP-Guest", channel=1, privacy=False),
    "wep": dict(bssid="02:00:0a:0a:0e:02", ssid="HOP-Legacy-WEP", channel=6, privacy=True),
    "psk": dict(bssid="02:00:0a:0a:0e:03", ssid="HOP-Biomed-PSK", channel=11, privacy=True,
                akm=2, rsn_caps=0x0000),
    "ent": dict(bssid="02:00:0a:0a:0e:04", ssid="HOP-Biomed-8021X", channel=36, privacy=True,
                akm=1, rsn_caps=0x0000),
    "sae": dict(bssid="02:00:0a:0a:0e:05", ssid="HOP-Staff-SAE", channel=44, privacy=True,
                akm=8, rsn_caps=0x00C0),  # WPA3-SAE: PMF capable and required
}

RATES_24 = bytes([0x82, 0x84, 0x8B, 0x96, 0x0C, 0x12, 0x18, 0x24])
RATES_5 = bytes([0x8C, 0x12, 0x98, 0x24, 0xB0, 0x48, 0x60, 0x6C])


class Air:
    """Frames of one capture, stamped in order, with per-transmitter
    sequence numbers as a real radio numbers them."""

    def __init__(self, start):
        self.time = start
        self.frames = []
        self.seq = {}

    def send(self, network, dot11, payload, after=0.0005):
        sender = dot11.addr2
        seq = self.seq.get(sender, 100)
        self.seq[sender] = (seq + 1) % 4096
        dot11.SC = seq << 4
        frame = radiotap(network["channel"]) / dot11 / payload
        self.time += after
        frame.time = self.time
        self.frames.append(frame)


def radiotap(channel):
    """Radiotap: Flags (no FCS), rate, channel and signal, like a monitor
    interface of a common chipset would record them."""
    if channel <= 14:
        freq, flags, rate = 2407 + 5 * channel, "CCK+2GHz", 2        # 1 Mb/s
    else:
        freq, flags, rate = 5000 + 5 * channel, "OFDM+5GHz", 12      # 6 Mb/s
    return RadioTap(present="Flags+Rate+Channel+dBm_AntSignal", Flags=0, Rate=rate,
                    ChannelFrequency=freq, ChannelFlags=flags, dBm_AntSignal=-52)


def rsn(akm, caps):
    """RSN element: version 1, CCMP group and pairwise, one AKM 00-0F-AC:akm."""
    body = struct.pack("<H", 1) + bytes([0x00, 0x0F, 0xAC, 4])
    body += struct.pack("<H", 1) + bytes([0x00, 0x0F, 0xAC, 4])
    body += struct.pack("<H", 1) + bytes([0x00, 0x0F, 0xAC, akm])
    body += struct.pack("<H", caps)
    return Dot11Elt(ID=48, info=body)


def network_elements(network, with_channel=True):
    rates = RATES_24 if network["channel"] <= 14 else RATES_5
    elements = Dot11Elt(ID=0, info=network["ssid"].encode()) / Dot11Elt(ID=1, info=rates)
    if with_channel:
        elements = elements / Dot11Elt(ID=3, info=bytes([network["channel"]]))
    if "akm" in network:
        elements = elements / rsn(network["akm"], network["rsn_caps"])
    return elements


def capability(network):
    """ESS, short slot time and (WEP or RSN networks) Privacy. scapy packs
    this 16-bit FlagsField big-endian while 802.11 fields are little-endian:
    the bytes are swapped here so that the wire reads 0x0401 / 0x0411."""
    value = 0x0411 if network["privacy"] else 0x0401
    return ((value & 0xFF) << 8) | (value >> 8)


def beacon(air, network, tsf):
    bssid = network["bssid"]
    dot11 = Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=bssid, addr3=bssid)
    body = Dot11Beacon(timestamp=tsf, beacon_interval=100, cap=capability(network))
    air.send(network, dot11, body / network_elements(network), after=0)


def associate(air, network, station):
    """Open System authentication, then (re)association, status 0 (success)."""
    bssid = network["bssid"]
    air.send(network, Dot11(type=0, subtype=11, addr1=bssid, addr2=station, addr3=bssid),
             Dot11Auth(algo=0, seqnum=1, status=0), after=0.05)
    air.send(network, Dot11(type=0, subtype=11, addr1=station, addr2=bssid, addr3=bssid),
             Dot11Auth(algo=0, seqnum=2, status=0))
    air.send(network, Dot11(type=0, subtype=0, addr1=bssid, addr2=station, addr3=bssid),
             Dot11AssoReq(cap=capability(network), listen_interval=10) /
             network_elements(network, with_channel=False))
    air.send(network, Dot11(type=0, subtype=1, addr1=station, addr2=bssid, addr3=bssid),
             Dot11AssoResp(cap=capability(network), status=0, AID=1) /
             Dot11Elt(ID=1, info=RATES_24 if network["channel"] <= 14 else RATES_5))


def eapol(air, network, station, from_ap, body, after=0.002):
    bssid = network["bssid"]
    if from_ap:
        dot11 = Dot11(type=2, subtype=8, FCfield="from-DS", addr1=station, addr2=bssid,
                      addr3=bssid)
    else:
        dot11 = Dot11(type=2, subtype=8, FCfield="to-DS", addr1=bssid, addr2=station,
                      addr3=bssid)
    air.send(network, dot11, Dot11QoS(TID=7) / LLC() / SNAP(code=0x888E) / body, after=after)


def placeholder(label, size):
    """Fixed pseudo-random bytes (nonces, MICs): same file on every run."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def eapol_key(key_info, replay, nonce=b"", mic=b"", key_data=b""):
    """An EAPOL-Key frame (802.1X-2010 type 3) with the RSN descriptor (2):
    key information, key length 16 (CCMP), replay counter, nonce, IV, RSC,
    reserved, MIC, key data."""
    body = bytes([2]) + struct.pack(">HH", key_info, 16) + struct.pack(">Q", replay)
    body += nonce.ljust(32, b"\0") + b"\0" * 16 + b"\0" * 8 + b"\0" * 8
    body += mic.ljust(16, b"\0") + struct.pack(">H", len(key_data)) + key_data
    return EAPOL(version=2, type=3, len=len(body)) / Raw(body)


def four_way_handshake(air, network, station, label):
    """Messages 1 to 4 (IEEE 802.11-2020 12.7.6): key descriptor version 2
    (HMAC-SHA1-128, AES key wrap), Pairwise, then Ack, MIC, Secure, Install
    and Encrypted Key Data as each message sets them."""
    anonce = placeholder(label + "/anonce", 32)
    snonce = placeholder(label + "/snonce", 32)
    rsn_ie = bytes(rsn(network["akm"], network["rsn_caps"]))
    eapol(air, network, station, True, eapol_key(0x008A, 1, nonce=anonce), after=0.003)
    eapol(air, network, station, False,
          eapol_key(0x010A, 1, nonce=snonce, mic=placeholder(label + "/mic2", 16),
                    key_data=rsn_ie))
    eapol(air, network, station, True,
          eapol_key(0x13CA, 2, nonce=anonce, mic=placeholder(label + "/mic3", 16),
                    key_data=placeholder(label + "/gtk", 56)))
    eapol(air, network, station, False,
          eapol_key(0x030A, 2, mic=placeholder(label + "/mic4", 16)))


def eap(code, ident, type_=None, data=b""):
    if type_ is None:
        return EAPOL(version=2, type=0) / EAP(code=code, id=ident)
    return EAPOL(version=2, type=0) / EAP(code=code, id=ident, type=type_) / Raw(data)


def write(out_dir, name, air):
    wrpcap(os.path.join(out_dir, name), air.frames, linktype=127)
    print(f"{name}: {len(air.frames)} frames (crafted)")


def capture_beacons(out_dir):
    """Three beacons of each of the five networks, 102.4 ms apart."""
    air = Air(T0)
    order = ["open", "wep", "psk", "ent", "sae"]
    for round_ in range(3):
        for i, key in enumerate(order):
            air.time = T0 + round_ * 100 * TU + i * 7 * TU
            beacon(air, NETWORKS[key], tsf=int((round_ * 100 + i * 7) * 1024 + 5_000_000))
    write(out_dir, "wifi-beacons.pcap", air)


def capture_open(out_dir):
    """monitor-wifi-2 joins the open network and resolves a name: the DNS
    query (and its answer) cross the air unencrypted."""
    network = NETWORKS["open"]
    air = Air(T0 + 10)
    beacon(air, network, tsf=15_000_000)
    associate(air, network, MONITOR)
    bssid = network["bssid"]
    query = (IP(src="10.10.3.15", dst="10.10.0.53", id=0x1515, ttl=64) /
             UDP(sport=40515, dport=53) /
             DNS(id=0x4d32, rd=1, qd=DNSQR(qname="central.monitoring.hopital.example")))
    air.send(network, Dot11(type=2, subtype=0, FCfield="to-DS", addr1=bssid, addr2=MONITOR,
                            addr3=ROUTER), LLC() / SNAP(code=0x0800) / query, after=0.2)
    answer = (IP(src="10.10.0.53", dst="10.10.3.15", id=0x0053, ttl=63) /
              UDP(sport=53, dport=40515) /
              DNS(id=0x4d32, qr=1, aa=1, rd=1, ra=1,
                  qd=DNSQR(qname="central.monitoring.hopital.example"),
                  an=DNSRR(rrname="central.monitoring.hopital.example", type="A", ttl=300,
                           rdata="10.10.2.60")))
    air.send(network, Dot11(type=2, subtype=0, FCfield="from-DS", addr1=MONITOR, addr2=bssid,
                            addr3=ROUTER), LLC() / SNAP(code=0x0800) / answer, after=0.003)
    write(out_dir, "wifi-open-assoc.pcap", air)


def capture_psk(out_dir):
    """infusion-gw-1 joins the WPA2-PSK network: association, then the
    4-way handshake (no EAP: the key comes from a shared passphrase)."""
    network = NETWORKS["psk"]
    air = Air(T0 + 20)
    beacon(air, network, tsf=25_000_000)
    associate(air, network, DEVICE)
    four_way_handshake(air, network, DEVICE, "psk")
    write(out_dir, "wifi-psk-assoc.pcap", air)


def capture_eap_md5(out_dir, password):
    """analyser-8021x joins the WPA2-Enterprise network with EAP-MD5 (no TLS
    tunnel): Identity, MD5-Challenge, the real MD5 response, Success, then
    the 4-way handshake."""
    network = NETWORKS["ent"]
    air = Air(T0 + 30)
    beacon(air, network, tsf=35_000_000)
    associate(air, network, ANALYSER)
    identity = b"lab-analyser-3"
    challenge = placeholder("md5-challenge", 16)
    # RFC 3748 5.4 / RFC 1994: MD5(identifier || secret || challenge).
    response = hashlib.md5(bytes([2]) + password.encode() + challenge).digest()
    steps = [
        (False, EAPOL(version=2, type=1, len=0)),                 # EAPOL-Start
        (True, eap(1, 1, 1)),                                     # Request Identity
        (False, eap(2, 1, 1, identity)),                          # Response Identity
        (True, eap(1, 2, 4, bytes([16]) + challenge + b"radius")),  # MD5-Challenge
        (False, eap(2, 2, 4, bytes([16]) + response)),            # MD5 response
        (True, eap(3, 2)),                                        # Success
    ]
    for from_ap, body in steps:
        eapol(air, network, ANALYSER, from_ap, body, after=0.004)
    four_way_handshake(air, network, ANALYSER, "ent")
    write(out_dir, "wifi-eap-md5.pcap", air)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: craft-wifi.py OUTPUT_DIR (password in FXA_EAP_MD5_PASSWORD)")
    password = os.environ.get("FXA_EAP_MD5_PASSWORD")
    if not password:
        sys.exit("craft-wifi.py: FXA_EAP_MD5_PASSWORD is not set")
    out_dir = sys.argv[1]
    capture_beacons(out_dir)
    capture_open(out_dir)
    capture_psk(out_dir)
    capture_eap_md5(out_dir, password)


if __name__ == "__main__":
    main()
