"""Address allocation from a gateway's tunnel pool.

The lowest free host address is either the lowest freed one (an index lookup on
FreeAddress) or the high-water mark, so the cost does not grow with the number
of addresses in use. The caller holds the gateway row locked (it bumps the
revision in the same transaction), which serialises allocations per gateway;
the unique constraint on (gateway, address) is the last line of defence.
"""

from __future__ import annotations

import ipaddress

from django.utils.translation import gettext as _

from gateways.models import FreeAddress, Gateway
from vpnconsole.errors import ProvisioningError


class PoolExhausted(ProvisioningError):
    """No free address is left in the gateway's pool."""

    def __init__(self, gateway: Gateway):
        super().__init__(
            _("VPNゲートウェイ「%(name)s」のアドレスプールに空きがありません。")
            % {"name": gateway.name}
        )


def _last_host(gateway: Gateway) -> int:
    return int(gateway.network.broadcast_address) - 1


def allocate(gateway: Gateway) -> int:
    """Take the lowest free address of a locked gateway. Saves ``next_address`` if it moves."""
    freed = gateway.free_addresses.order_by("address").first()
    if freed is not None:
        freed.delete()
        return freed.address
    candidate = gateway.next_address
    if candidate == int(ipaddress.IPv4Address(gateway.tunnel_address)):
        candidate += 1
    if candidate > _last_host(gateway):
        raise PoolExhausted(gateway)
    gateway.next_address = candidate + 1
    gateway.save(update_fields=["next_address"])
    return candidate


def release(gateway: Gateway, address: int) -> None:
    FreeAddress.objects.create(gateway=gateway, address=address)


def capacity(gateway: Gateway) -> int:
    network = gateway.network
    return network.num_addresses - 3  # network, broadcast and the gateway itself
