"""The configuration a gateway should run, and what happens when it reports it applied it.

The JSON handed to the agent (``GET /api/gateways/<id>/config``)::

    {
      "gateway": "gw-...", "revision": 42,
      "wireguard": {"enabled": true, "listen_port": 51820, "address": "198.18.0.1/24",
                    "peers": [{"access": "va-...", "public_key": "...",
                               "allowed_ips": ["198.18.0.2/32"]}]},
      "l2tp": {"enabled": true, "psk": "...", "local_address": "198.18.0.1",
               "network": "198.18.0.0/24", "dns": ["198.18.0.1"],
               "users": [{"access": "va-...", "username": "va-...",
                          "password": "...", "address": "198.18.0.3"}]}
    }
"""

from __future__ import annotations

import ipaddress

from django.db import transaction
from django.utils import timezone

from access.models import AccessStatus, Protocol, VpnAccess
from gateways.models import Gateway


class UnknownRevision(Exception):
    """The agent acknowledged a revision the console never handed out."""


def desired_config(gateway: Gateway) -> dict:
    network = gateway.network
    wg_peers = []
    l2tp_users = []
    rows = (
        VpnAccess.objects.filter(gateway=gateway)
        .order_by("address")
        .values_list(
            "public_id",
            "protocol",
            "address",
            "wg_public_key",
            "l2tp_username",
            "password_ciphertext",
        )
    )
    # The model's decrypt needs an instance only for its binding; rebuild it cheaply.
    probe = VpnAccess()
    for public_id, protocol, address, public_key, username, ciphertext in rows.iterator(
        chunk_size=2000
    ):
        ip = str(ipaddress.IPv4Address(address))
        if protocol == Protocol.WIREGUARD:
            wg_peers.append(
                {"access": public_id, "public_key": public_key, "allowed_ips": [f"{ip}/32"]}
            )
        else:
            probe.public_id = public_id
            probe.password_ciphertext = ciphertext
            l2tp_users.append(
                {
                    "access": public_id,
                    "username": username,
                    "password": probe.password,
                    "address": ip,
                }
            )
    return {
        "gateway": gateway.public_id,
        "revision": gateway.revision,
        "wireguard": {
            "enabled": gateway.serves_wireguard,
            "listen_port": gateway.endpoint_port,
            "address": f"{gateway.tunnel_address}/{network.prefixlen}",
            "peers": wg_peers,
        },
        "l2tp": {
            "enabled": gateway.serves_l2tp,
            "psk": gateway.psk,
            "local_address": gateway.tunnel_address,
            "network": str(network),
            "dns": gateway.dns_list,
            "users": l2tp_users,
        },
    }


def mark_served(gateway: Gateway, revision: int) -> None:
    Gateway.objects.filter(pk=gateway.pk, served_revision__lt=revision).update(
        served_revision=revision, last_seen_at=timezone.now()
    )


def mark_applied(gateway: Gateway, revision: int) -> int:
    """Record that the gateway runs ``revision``; its accesses up to it become 利用可能.

    Returns how many accesses turned 利用可能.
    """
    with transaction.atomic():
        gateway = Gateway.objects.select_for_update().get(pk=gateway.pk)
        if revision < 1 or revision > gateway.served_revision:
            raise UnknownRevision(revision)
        gateway.applied_revision = max(gateway.applied_revision, revision)
        gateway.last_seen_at = timezone.now()
        gateway.save(update_fields=["applied_revision", "last_seen_at"])
        return VpnAccess.objects.filter(
            gateway=gateway, status=AccessStatus.PREPARING, revision__lte=revision
        ).update(status=AccessStatus.READY)
