"""Create, reissue and delete VPN accesses: the only code that changes them.

Each function runs in one transaction that locks the gateway row, allocates or
frees the address, bumps the gateway's config revision and writes the audit
record. The one-time secrets come back in an ``IssuedSecrets`` for the page that
shows them; nothing else ever sees them and only their public halves (or
ciphertext the gateway needs) are stored.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access import wireguard
from access.models import AccessStatus, Protocol, VpnAccess
from devices.models import Device
from gateways import pool
from gateways.models import Gateway
from vpnconsole import audit
from vpnconsole.credentials import typable_secret, wireguard_keypair
from vpnconsole.errors import ProvisioningError
from vpnconsole.models import AuditAction, Contract

log = logging.getLogger(__name__)


class DeviceNameTaken(ProvisioningError):
    field = "device_name"

    def __init__(self, name: str):
        super().__init__(_("デバイス名「%(name)s」は既に使われています。") % {"name": name})


class GatewayUnavailable(ProvisioningError):
    field = "gateway"


@dataclass(frozen=True)
class IssuedSecrets:
    """What is shown once on the complete page or the reissue dialog, and never again."""

    access_id: str
    protocol: str
    private_key: str = ""
    public_key: str = ""
    password: str = ""
    client_config: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def __repr__(self) -> str:  # keep secrets out of tracebacks and debug logs
        return f"IssuedSecrets(access_id={self.access_id!r}, protocol={self.protocol!r})"


def shared_gateway() -> Gateway | None:
    return Gateway.objects.filter(contract__isnull=True).order_by("id").first()


def key_fingerprint(public_key: str) -> str:
    return hashlib.sha256(public_key.encode()).hexdigest()[:16]


def _lock_gateway(gateway_id: int) -> Gateway:
    return Gateway.objects.select_for_update().get(pk=gateway_id)


def _check_gateway(gateway: Gateway, contract: Contract, protocol: str) -> None:
    if gateway.contract_id is not None and gateway.contract_id != contract.pk:
        raise GatewayUnavailable(_("このVPNゲートウェイは選択できません。"))
    if not gateway.is_registered:
        raise GatewayUnavailable(
            _(
                "VPNゲートウェイ「%(name)s」はまだ登録されていません。しばらくしてから再度お試しください。"
            )
            % {"name": gateway.name}
        )
    served = gateway.serves_wireguard if protocol == Protocol.WIREGUARD else gateway.serves_l2tp
    if not served:
        raise GatewayUnavailable(
            _("VPNゲートウェイ「%(name)s」は %(protocol)s に対応していません。")
            % {"name": gateway.name, "protocol": Protocol(protocol).label}
        )


def _bump_revision(gateway: Gateway) -> int:
    gateway.revision += 1
    gateway.save(update_fields=["revision"])
    return gateway.revision


def _issue_credentials(access: VpnAccess) -> IssuedSecrets:
    """Give the access new credentials; the caller saves it."""
    if access.protocol == Protocol.WIREGUARD:
        keys = wireguard_keypair()
        access.wg_public_key = keys.public_key
        return IssuedSecrets(
            access_id=access.public_id,
            protocol=access.protocol,
            private_key=keys.private_key,
            public_key=keys.public_key,
            client_config=wireguard.client_config(access, keys.private_key),
        )
    password = typable_secret()
    access.l2tp_username = access.public_id
    access.set_password(password)
    return IssuedSecrets(access_id=access.public_id, protocol=access.protocol, password=password)


def create_access(
    *,
    contract: Contract,
    actor,
    protocol: str,
    device_name: str,
    gateway: Gateway | None = None,
    source_address: str | None = None,
) -> tuple[VpnAccess, IssuedSecrets]:
    """Create a device and its VPN access on ``gateway`` (the shared one when None)."""
    if protocol not in Protocol.values:
        raise ProvisioningError(_("プロトコルを選択してください。"))
    gateway = gateway or shared_gateway()
    if gateway is None:
        raise GatewayUnavailable(_("利用できるVPNゲートウェイがありません。"))
    try:
        with transaction.atomic():
            gateway = _lock_gateway(gateway.pk)
            _check_gateway(gateway, contract, protocol)
            if Device.objects.filter(contract=contract, name__iexact=device_name).exists():
                raise DeviceNameTaken(device_name)
            device = Device.objects.create(contract=contract, name=device_name)
            access = VpnAccess(
                contract=contract,
                device=device,
                gateway=gateway,
                protocol=protocol,
                address=pool.allocate(gateway),
                revision=_bump_revision(gateway),
            )
            issued = _issue_credentials(access)
            access.save()
            audit.record(
                actor=actor,
                action=AuditAction.CREATE,
                object_id=access.public_id,
                contract=contract,
                source_address=source_address,
                detail={
                    "protocol": protocol,
                    "device": device.public_id,
                    "device_name": device.name,
                    "gateway": gateway.public_id,
                    "address": access.ip_address,
                    "revision": access.revision,
                    **_public_detail(access),
                },
            )
    except IntegrityError:
        # Only the device name's case-insensitive unique constraint can race here:
        # addresses are serialised by the gateway lock.
        if Device.objects.filter(contract=contract, name__iexact=device_name).exists():
            raise DeviceNameTaken(device_name) from None
        raise
    log.info("created access %s on %s rev %s", access.public_id, gateway.public_id, access.revision)
    return access, issued


def _public_detail(access: VpnAccess) -> dict:
    if access.protocol == Protocol.WIREGUARD:
        return {"public_key_fingerprint": key_fingerprint(access.wg_public_key)}
    return {"username": access.l2tp_username}


def reissue_access(
    access: VpnAccess, *, actor, source_address: str | None = None
) -> tuple[VpnAccess, IssuedSecrets]:
    """New secrets for an access; the old ones stop working once the gateway applies it."""
    with transaction.atomic():
        gateway = _lock_gateway(access.gateway_id)
        access = VpnAccess.objects.select_for_update().select_related("gateway").get(pk=access.pk)
        access.gateway = gateway
        old = _public_detail(access)
        issued = _issue_credentials(access)
        access.status = AccessStatus.PREPARING
        access.revision = _bump_revision(gateway)
        access.save()
        audit.record(
            actor=actor,
            action=AuditAction.REISSUE,
            object_id=access.public_id,
            contract=access.contract,
            source_address=source_address,
            detail={"old": old, "new": _public_detail(access), "revision": access.revision},
        )
    log.info("reissued access %s rev %s", access.public_id, access.revision)
    return access, issued


def delete_access(access: VpnAccess, *, actor, source_address: str | None = None) -> None:
    """Delete the access and its device, free the address and drop the peer from the gateway."""
    with transaction.atomic():
        gateway = _lock_gateway(access.gateway_id)
        access = VpnAccess.objects.select_for_update().select_related("device").get(pk=access.pk)
        detail = {
            "protocol": access.protocol,
            "device": access.device.public_id,
            "device_name": access.device.name,
            "gateway": gateway.public_id,
            "address": access.ip_address,
            **_public_detail(access),
        }
        pool.release(gateway, access.address)
        device = access.device
        access.delete()
        device.delete()
        detail["revision"] = _bump_revision(gateway)
        audit.record(
            actor=actor,
            action=AuditAction.DELETE,
            object_id=access.public_id,
            contract=access.contract,
            source_address=source_address,
            detail=detail,
        )
    log.info("deleted access %s rev %s", access.public_id, detail["revision"])
