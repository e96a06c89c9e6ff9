"""The work directory of the L2TP/IPsec scenario (l2tp_scenario.sh), written on the host.

The gateway side gets only what a gateway host has before the agent runs: a
strongswan.conf for its charon, a swanctl.conf that includes conf.d/, Debian's
/etc/ppp/options, the driver's options and the desired configs to apply, in order.
Everything else on the gateway (swanctl connection and secrets, xl2tpd.conf, pppd
options, chap-secrets) is written inside UML by ``gateways.l2tp.L2tpDriver.apply``.

The device side is a client as a customer would set it up from the complete page:
IKEv1 with the shown PSK, an xl2tpd LAC per dial, and pppd with the shown user name
and password.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.uml import HERE

REPO = HERE.parent.parent
GATEWAY = "192.0.2.1"
DEVICES = {"dev1": "192.0.2.2", "dev2": "192.0.2.3"}
MODULES = [
    "veth",
    "bridge",
    "ppp_generic",
    "l2tp_ppp",
    "esp4",
    "xfrm_user",
    "authenc",
    "echainiv",
    "seqiv",
    "cbc",
    "ctr",
    "gcm",
    "ghash_generic",
    "hmac",
    "sha1_generic",
    "sha256_generic",
    "aes_generic",
    "cryptomgr",
]
CHARON_PLUGINS = "random nonce aes sha1 sha2 hmac gmp kdf kernel-netlink socket-default vici"


@dataclass(frozen=True)
class Dial:
    """One xl2tpd LAC on a device: who logs in, with which password."""

    device: str
    lac: str
    username: str
    password: str


def _secret(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _ppp_word(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _strongswan_conf(work: Path, ns: str, *, device: bool) -> str:
    # Devices give up on a dead IKE exchange within seconds, so the wrong-PSK phase
    # does not wait for the default 165 s of retransmits.
    retransmit = (
        "    retransmit_tries = 2\n    retransmit_timeout = 1.0\n    retransmit_base = 1.0\n"
        if device
        else ""
    )
    return f"""\
charon {{
    load = {CHARON_PLUGINS}
    threads = 8
    install_routes = no
{retransmit}    plugins {{
        vici {{
            socket = unix:///mnt/{ns}/charon.vici
        }}
    }}
    filelog {{
        charon {{
            path = {work / ns / "charon.log"}
            time_format = %H:%M:%S
            default = 1
        }}
    }}
}}
"""


def _client_swanctl(psk: str) -> str:
    return f"""\
connections {{
    gw {{
        version = 1
        remote_addrs = {GATEWAY}
        proposals = aes256-sha256-modp2048, aes256-sha1-modp1024
        local {{
            auth = psk
        }}
        remote {{
            auth = psk
        }}
        children {{
            l2tp {{
                mode = transport
                local_ts = dynamic[udp/1701]
                remote_ts = dynamic[udp/1701]
                esp_proposals = aes256gcm16, aes128-sha1
            }}
        }}
    }}
}}
secrets {{
    ike-gw {{
        secret = 0x{psk.encode().hex()}
    }}
}}
"""


def _client_ppp_options(work: Path, dial: Dial) -> str:
    return f"""\
name {_ppp_word(dial.username)}
password {_ppp_word(dial.password)}
noauth
refuse-pap
refuse-eap
refuse-mschap
refuse-mschap-v2
noipdefault
noipv6
nodefaultroute
noccp
mtu 1280
mru 1280
debug
logfile {work / dial.device / f"ppp-{dial.lac}.log"}
"""


def write(
    work: Path,
    *,
    configs: list[dict],
    psk: str,
    wrong_psk: str,
    dials: list[Dial],
    gateway_tunnel: str,
) -> None:
    python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (work / "env.sh").write_text(
        f"PYTHON={shlex.quote(str(python))}\n"
        f"HERE={shlex.quote(str(HERE))}\n"
        f"REPO={shlex.quote(str(REPO))}\n"
        f"GW_TUNNEL={shlex.quote(gateway_tunnel)}\n"
    )

    gw = work / "gw"
    (gw / "swanctl" / "conf.d").mkdir(parents=True)
    (gw / "ppp").mkdir()
    (gw / "strongswan.conf").write_text(_strongswan_conf(work, "gw", device=False))
    (gw / "swanctl" / "swanctl.conf").write_text(f"include {gw / 'swanctl' / 'conf.d'}/*.conf\n")
    debian_options = Path("/etc/ppp/options")
    (gw / "ppp" / "options").write_text(
        debian_options.read_text() if debian_options.exists() else ""
    )
    (gw / "driver.json").write_text(
        json.dumps(
            {
                "state_dir": str(gw / "state"),
                "swanctl_uri": "unix:///mnt/gw/charon.vici",
                "swanctl_file": str(gw / "swanctl" / "swanctl.conf"),
                "swanctl_conf_dir": str(gw / "swanctl" / "conf.d"),
                "ppp_dir": str(gw / "ppp"),
                "xl2tpd_conf": str(gw / "xl2tpd.conf"),
                "xl2tpd_restart": None,
            }
        )
    )
    for number, config in enumerate(configs, start=1):
        _secret(gw / f"config-{number}.json", json.dumps(config))

    for device in DEVICES:
        root = work / device
        (root / "ppp").mkdir(parents=True)
        (root / "ppp" / "options").write_text("")
        (root / "strongswan.conf").write_text(_strongswan_conf(work, device, device=True))
        _secret(root / "swanctl.conf", _client_swanctl(psk))
        # One xl2tpd run per dial (see l2tp_scenario.sh): it dials at start.
        for dial in (dial for dial in dials if dial.device == device):
            _secret(root / "ppp" / f"options.{dial.lac}", _client_ppp_options(work, dial))
            (root / f"xl2tpd-{dial.lac}.conf").write_text(
                f"[global]\nport = 1701\n\n[lac {dial.lac}]\nlns = {GATEWAY}\n"
                f"pppoptfile = /etc/ppp/options.{dial.lac}\n"
                "length bit = yes\nautodial = yes\nredial = no\n"
            )
    _secret(work / "dev2" / "swanctl-wrong-psk.conf", _client_swanctl(wrong_psk))
