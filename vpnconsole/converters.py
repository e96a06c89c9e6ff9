"""URL converters for public IDs: a URL that cannot be an ID of the kind is a 404
before any view or query runs."""

from __future__ import annotations

from vpnconsole.ids import id_pattern


class PublicIdConverter:
    prefix = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.regex = id_pattern(cls.prefix)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class AccessIdConverter(PublicIdConverter):
    prefix = "va"


class GatewayIdConverter(PublicIdConverter):
    prefix = "gw"
