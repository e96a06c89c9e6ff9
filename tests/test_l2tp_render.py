"""gateways.l2tp.render: the strongSwan, xl2tpd and pppd files of an L2TP/IPsec gateway.

The last tests check what L2tpDriver.apply leaves on disk (file modes, its state
file) with a stand-in swanctl; the real reload and session ending run in User-mode
Linux (test_l2tp_e2e.py).
"""

from __future__ import annotations

import copy
import json
import re
import stat

import pytest

from access import provisioning
from gateways import l2tp
from gateways.config import desired_config

PSK = "Psk2Secret7Value9Xyz"
CONFIG = {
    "gateway": "gw-test",
    "revision": 7,
    "wireguard": {"enabled": True, "listen_port": 51820, "address": "198.18.0.1/24", "peers": []},
    "l2tp": {
        "enabled": True,
        "psk": PSK,
        "local_address": "198.18.0.1",
        "network": "198.18.0.0/24",
        "dns": ["198.18.0.1", "192.0.2.53"],
        "users": [
            {"access": "va-a", "username": "va-a", "password": "Pw1aaaa", "address": "198.18.0.2"},
            {"access": "va-b", "username": "va-b", "password": "Pw2bbbb", "address": "198.18.0.3"},
        ],
    },
}


def config(**changes) -> dict:
    result = copy.deepcopy(CONFIG)
    result["l2tp"].update(changes)
    return result


def ppp_words(line: str) -> list[str]:
    """Split a pppd secrets line as pppd's getword() does (quotes and backslashes)."""
    words, i = [], 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        word, quoted = [], False
        while i < len(line) and (quoted or not line[i].isspace()):
            ch = line[i]
            if ch == "\\" and i + 1 < len(line):
                word.append(line[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = not quoted
            else:
                word.append(ch)
            i += 1
        words.append("".join(word))
    return words


def chap_lines(files: dict[str, str]) -> list[list[str]]:
    return [
        ppp_words(line)
        for line in files["chap-secrets"].splitlines()
        if line.strip() and not line.startswith("#")
    ]


def block(text: str, name: str) -> str:
    """The body of ``name { ... }`` in a strongSwan config (balanced braces)."""
    start = text.index(name + " {") + len(name) + 2
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def test_it_renders_the_five_files():
    files = l2tp.render(CONFIG)
    assert set(files) == set(l2tp.FILE_NAMES)
    assert set(l2tp.SECRET_FILES) == {"secrets.conf", "chap-secrets"}


def test_the_connection_is_ikev1_psk_with_esp_transport_for_l2tp():
    connection = block(l2tp.render(CONFIG)["swanctl.conf"], l2tp.CONNECTION)
    assert re.search(r"^\s*version = 1$", connection, re.M)
    assert block(connection, "local").split() == ["auth", "=", "psk"]
    assert block(connection, "remote").split() == ["auth", "=", "psk"]
    child = block(connection, l2tp.CHILD)
    assert re.search(r"^\s*mode = transport$", child, re.M)
    assert re.search(r"^\s*local_ts = dynamic\[udp/1701\]$", child, re.M)
    assert re.search(r"^\s*remote_ts = dynamic\[udp\]$", child, re.M)


def test_modern_proposals_come_first_and_old_clients_still_match():
    connection = block(l2tp.render(CONFIG)["swanctl.conf"], l2tp.CONNECTION)
    ike = re.search(r"^\s*proposals = (.*)$", connection, re.M).group(1).split(", ")
    esp = re.search(r"^\s*esp_proposals = (.*)$", connection, re.M).group(1).split(", ")
    assert ike[0] == "aes256-sha256-modp3072"
    assert ike.index("aes256-sha256-modp2048") < ike.index("aes256-sha1-modp1024")
    assert "aes128-sha1-modp1024" in ike  # older Android
    assert esp[:2] == ["aes256gcm16", "aes128gcm16"]
    assert "aes128-sha1" in esp
    assert not any("3des" in item or "md5" in item for item in ike + esp)


def test_cleartext_l2tp_is_dropped():
    shunt = block(l2tp.render(CONFIG)["swanctl.conf"], l2tp.SHUNT_CHILD)
    assert "mode = drop" in shunt
    assert "start_action = trap" in shunt
    assert "local_ts = 0.0.0.0/0[udp/1701]" in shunt


def test_the_psk_is_only_in_the_secrets_file_and_hex_encoded():
    files = l2tp.render(CONFIG)
    secrets = block(files["secrets.conf"], "secrets")
    assert f"ike-{l2tp.CONNECTION}" in secrets
    assert f"secret = 0x{PSK.encode().hex()}" in secrets
    assert all(PSK not in content for content in files.values())
    assert all(PSK.encode().hex() not in files[name] for name in files if name != "secrets.conf")


def test_a_psk_that_looks_like_strongswan_syntax_stays_a_string():
    files = l2tp.render(config(psk='0x41 "} secrets {'))
    assert "secret = 0x3078343120227d2073656372657473207b\n" in files["secrets.conf"]


def test_xl2tpd_serves_the_lns_from_the_local_address_and_leaves_addresses_to_pppd():
    text = l2tp.render(CONFIG)["xl2tpd.conf"]
    lns = text.split("[lns default]", 1)[1]
    assert "local ip = 198.18.0.1" in lns
    assert "assign ip = no" in lns
    assert "198.18.0.0/24" in lns  # the pool, named where it is enforced
    assert "require chap = yes" in lns and "refuse pap = yes" in lns
    assert f"pppoptfile = {l2tp.PPP_OPTIONS_PATH}" in lns
    assert "ip range" not in text


def test_pppd_requires_chap_refuses_pap_and_hands_out_the_dns_servers():
    options = l2tp.render(CONFIG)["options.xl2tpd"].splitlines()
    for option in ("auth", "require-chap", "refuse-pap", "refuse-mschap", "refuse-mschap-v2"):
        assert option in options
    assert "ms-dns 198.18.0.1" in options
    assert "ms-dns 192.0.2.53" in options
    assert "nodefaultroute" in options
    assert "noipv6" in options


def test_pppd_gets_at_most_two_ipv4_dns_servers():
    options = l2tp.render(config(dns=["2001:db8::53", "198.18.0.1", "192.0.2.53", "192.0.2.54"]))
    assert [line for line in options["options.xl2tpd"].splitlines() if "ms-dns" in line] == [
        "ms-dns 198.18.0.1",
        "ms-dns 192.0.2.53",
    ]


def test_chap_secrets_has_one_line_per_user_with_its_fixed_address():
    assert chap_lines(l2tp.render(CONFIG)) == [
        ["va-a", "*", "Pw1aaaa", "198.18.0.2"],
        ["va-b", "*", "Pw2bbbb", "198.18.0.3"],
    ]


@pytest.mark.parametrize("password", ['with"quote', "back\\slash", "sp ace", "hash#mark", "ünï"])
def test_chap_secrets_quotes_any_password_as_pppd_reads_it(password):
    users = [{"username": "va-a", "password": password, "address": "198.18.0.2"}]
    assert chap_lines(l2tp.render(config(users=users))) == [["va-a", "*", password, "198.18.0.2"]]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"username": "*", "password": "Secret1x"}, "reserved"),
        ({"username": "va a", "password": "Secret1x"}, "white space"),
        ({"username": "va-a", "password": "@etc/shadow1x"}, "'@'"),
        ({"username": "va-a", "password": "Secret1x\nva-b * x"}, "control character"),
        ({"username": "va-a", "password": ""}, "non-empty"),
        ({"username": "va-a", "password": "Secret1x", "address": "198.18.1.2"}, "address"),
        ({"username": "va-a", "password": "Secret1x", "address": "198.18.0.1"}, "address"),
    ],
)
def test_it_refuses_what_pppd_would_misread_without_echoing_the_secret(user, message):
    users = [{"address": "198.18.0.2", **user}]
    with pytest.raises(ValueError, match=message) as raised:
        l2tp.render(config(users=users))
    assert "Secret1x" not in str(raised.value)
    assert "shadow" not in str(raised.value)


def test_it_refuses_a_user_or_address_twice():
    users = CONFIG["l2tp"]["users"] + [
        {"username": "va-c", "password": "Pw3cccc", "address": "198.18.0.3"}
    ]
    with pytest.raises(ValueError, match="twice"):
        l2tp.render(config(users=users))


def test_a_gateway_without_l2tp_gets_no_connection_no_key_and_no_users():
    files = l2tp.render(config(enabled=False))
    assert block(files["swanctl.conf"], "connections").strip() == ""
    assert block(files["secrets.conf"], "secrets").strip() == ""
    assert chap_lines(files) == []
    assert PSK.encode().hex() not in files["secrets.conf"]


def test_the_l2tp_section_alone_renders_the_same():
    section = copy.deepcopy(CONFIG["l2tp"])
    whole, alone = l2tp.render(CONFIG), l2tp.render(section)
    assert chap_lines(alone) == chap_lines(whole)
    assert alone["secrets.conf"].split("\n", 1)[1] == whole["secrets.conf"].split("\n", 1)[1]


def test_a_new_revision_alone_changes_no_file():
    # xl2tpd restarts (dropping every session) only when its file changes.
    later = copy.deepcopy(CONFIG)
    later["revision"] = 8
    assert l2tp.render(later) == l2tp.render(CONFIG)


def test_the_console_desired_config_renders(contract_a, operator_a, shared_gateway):
    access, shown = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="l2tp-1"
    )
    shared_gateway.refresh_from_db()
    files = l2tp.render(desired_config(shared_gateway))
    assert chap_lines(files) == [[access.l2tp_username, "*", shown.password, access.ip_address]]
    assert f"0x{shared_gateway.psk.encode().hex()}" in files["secrets.conf"]
    assert "local ip = " + shared_gateway.tunnel_address in files["xl2tpd.conf"]


# --- what L2tpDriver.apply leaves on disk (a stand-in swanctl) -----------------------


@pytest.fixture
def driver(tmp_path):
    calls = tmp_path / "calls"
    swanctl = tmp_path / "fake-swanctl"
    swanctl.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    swanctl.chmod(0o755)
    made = l2tp.L2tpDriver(
        tmp_path / "state",
        swanctl=str(swanctl),
        swanctl_uri="unix:///nowhere/charon.vici",
        swanctl_conf_dir=tmp_path / "swanctl",
        ppp_dir=tmp_path / "ppp",
        xl2tpd_conf=tmp_path / "xl2tpd" / "xl2tpd.conf",
        xl2tpd_restart=None,
        sys_class_net=tmp_path / "no-interfaces",
    )
    made.calls = calls
    return made


def test_apply_writes_secret_files_0600_and_reloads_creds_before_conns(driver, tmp_path):
    driver.apply(CONFIG)
    modes = {name: stat.S_IMODE(path.stat().st_mode) for name, path in driver.paths.items()}
    assert modes == {
        "swanctl.conf": 0o644,
        "secrets.conf": 0o600,
        "xl2tpd.conf": 0o644,
        "options.xl2tpd": 0o644,
        "chap-secrets": 0o600,
    }
    assert driver.paths["chap-secrets"] == tmp_path / "ppp" / "chap-secrets"
    calls = driver.calls.read_text().splitlines()
    assert [call.split()[0] for call in calls] == ["--load-creds", "--load-conns"]
    assert all("--uri unix:///nowhere/charon.vici" in call for call in calls)


def test_apply_keeps_hashes_not_passwords_in_its_state(driver, tmp_path):
    driver.apply(CONFIG)
    state_file = tmp_path / "state" / l2tp.STATE_FILE
    text = state_file.read_text()
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert "Pw1aaaa" not in text and PSK not in text
    users = json.loads(text)["users"]
    assert users["va-a"]["address"] == "198.18.0.2"
    before = users["va-a"]["digest"]
    driver.apply(config(users=[{**CONFIG["l2tp"]["users"][0], "password": "Pw9zzzz"}]))
    after = json.loads(state_file.read_text())["users"]
    assert set(after) == {"va-a"}
    assert after["va-a"]["digest"] != before


def test_a_failed_reload_raises_without_the_secrets(driver, tmp_path):
    swanctl = tmp_path / "fake-swanctl"
    leak = f"bad secret {PSK} near 0x{PSK.encode().hex()}"
    swanctl.write_text(f'#!/bin/sh\necho "{leak}" >&2\nexit 1\n')
    with pytest.raises(l2tp.L2tpApplyError) as raised:
        driver.apply(CONFIG)
    message = str(raised.value)
    assert "exited with 1" in message
    assert PSK not in message and PSK.encode().hex() not in message
    assert not (tmp_path / "state" / l2tp.STATE_FILE).exists()  # retried next time


def test_xl2tpd_restarts_only_when_its_file_changed_since_the_last_good_apply(driver, tmp_path):
    restarts = tmp_path / "restarts"
    driver.xl2tpd_restart = ["sh", "-c", f"echo restart >> {restarts}"]
    driver.apply(CONFIG)
    driver.apply(config(users=CONFIG["l2tp"]["users"][:1]))
    assert restarts.read_text().splitlines() == ["restart"]
    moved = config(local_address="198.18.0.254")
    driver.apply(moved)
    assert restarts.read_text().splitlines() == ["restart", "restart"]
