"""Writes the audit trail. Call inside the transaction of the change it records."""

from __future__ import annotations

from vpnconsole.models import AuditEvent, Contract


def record(
    *,
    actor,
    action: str,
    object_id: str,
    contract: Contract | None = None,
    detail: dict | None = None,
    source_address: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=getattr(actor, "username", "") or "",
        contract=contract,
        action=action,
        object_id=object_id,
        detail=detail or {},
        source_address=source_address,
    )
