"""Count what crosses the wire in the UML test, without tcpdump.

Runs in the UML root namespace on the bridge ports (one veth end per namespace). Every
frame is classed by port, direction (``from`` the namespace or ``to`` it) and kind:
``esp``, ``ike`` (UDP 500/4500), ``l2tp`` (UDP 1701 in the clear), ``arp``,
``icmp-l2tp-unreachable`` (a port-unreachable quoting UDP 1701),
``other-ipv4`` or ``other``. IPv4 addresses outside ``--allow`` are counted too, and
the "other" frames by ethertype (and IP protocol and destination) to tell what they
were. On SIGTERM the counts go to ``--out`` as JSON. Standard library only.

    sniff.py --out counts.json --ready ready --allow 192.0.2.0/24 v-gw v-dev1 v-dev2
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import socket
import struct
from collections import Counter
from pathlib import Path

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def classify(frame: bytes) -> tuple[str, list[str], str]:
    """(kind, IPv4 addresses seen, what an "other" frame was)."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0806:
        return "arp", [socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])], ""
    if ethertype != 0x0800:
        return "other", [], f"ethertype {ethertype:#06x}"
    ip = frame[14:]
    header = (ip[0] & 0x0F) * 4
    proto = ip[9]
    addresses = [socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])]
    if proto == 50:
        return "esp", addresses, ""
    if proto == 17:
        sport, dport = struct.unpack("!HH", ip[header : header + 4])
        if 1701 in (sport, dport):
            return "l2tp", addresses, ""
        if {sport, dport} & {500, 4500}:
            return "ike", addresses, ""
    what = f"ip proto {proto} to {addresses[1]}"
    if proto == 1:  # ICMP: its type, and for an error the port of the packet it quotes
        kind_code = f" icmp {ip[header]}/{ip[header + 1]}"
        quoted = ip[header + 8 :]
        if ip[header] == 3 and len(quoted) >= 24 and quoted[9] == 17:
            inner = (quoted[0] & 0x0F) * 4
            dport = struct.unpack("!H", quoted[inner + 2 : inner + 4])[0]
            kind_code += f" udp port {dport}"
            if dport == 1701:
                # A device's kernel answering an L2TP packet that arrived through ESP
                # just after its xl2tpd hung up, when the SA is already gone: counted
                # on its own so the test can bound it.
                return "icmp-l2tp-unreachable", addresses, what + kind_code
        what += kind_code
    return "other-ipv4", addresses, what


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--allow", required=True)
    parser.add_argument("ports", nargs="+")
    args = parser.parse_args()
    allowed = ipaddress.IPv4Network(args.allow)
    counts: Counter[str] = Counter()
    foreign: Counter[str] = Counter()
    others: Counter[str] = Counter()

    def dump(*_):
        Path(args.out).write_text(
            json.dumps(
                {"counts": dict(counts), "foreign": dict(foreign), "others": dict(others)},
                sort_keys=True,
            )
        )
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, dump)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    Path(args.ready).write_text("ready\n")
    while True:
        frame, address = sock.recvfrom(65535)
        port, pkttype = address[0], address[2]
        if port not in args.ports:
            continue
        # A bridge port's outgoing frames go into the namespace behind it.
        direction = "to" if pkttype == PACKET_OUTGOING else "from"
        kind, addresses, what = classify(frame)
        counts[f"{port} {direction} {kind}"] += 1
        if what:
            # When it happened, to find the phase (the scenario logs the same clock).
            with open("/proc/uptime") as uptime:
                at = uptime.read().split()[0]
            others[f"{port} {direction} {what} at {at}"] += 1
        for item in addresses:
            if ipaddress.IPv4Address(item) not in allowed:
                foreign[item] += 1


if __name__ == "__main__":
    main()
