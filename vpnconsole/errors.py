from __future__ import annotations


class ProvisioningError(Exception):
    """A change that cannot be made, with a message fit to show the operator."""

    field: str | None = None
