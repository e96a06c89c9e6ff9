"""The WireGuard client configuration a device is given, built with wgconfig."""

from __future__ import annotations

import io

import wgconfig

from access.models import VpnAccess

PERSISTENT_KEEPALIVE = 25


def client_config(access: VpnAccess, private_key: str) -> str:
    gateway = access.gateway
    config = wgconfig.WGConfig()
    config.initialize_file()
    config.add_attr(None, "PrivateKey", private_key)
    config.add_attr(None, "Address", f"{access.ip_address}/32")
    if gateway.dns_list:
        config.add_attr(None, "DNS", ", ".join(gateway.dns_list))
    config.add_peer(gateway.wg_public_key)
    config.add_attr(gateway.wg_public_key, "Endpoint", gateway.endpoint)
    config.add_attr(gateway.wg_public_key, "AllowedIPs", ", ".join(gateway.allowed_ips_list))
    config.add_attr(gateway.wg_public_key, "PersistentKeepalive", PERSISTENT_KEEPALIVE)
    out = io.StringIO()
    config.write_to_fileobj(out)
    return out.getvalue()


def config_filename(access: VpnAccess) -> str:
    # Interface names are at most 15 characters; wg-quick derives it from the file name.
    return f"{access.public_id[:15]}.conf"
