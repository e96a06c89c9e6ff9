from django.urls import path, register_converter

from gateways import api
from vpnconsole.ids import id_pattern


class GatewayIdConverter:
    regex = id_pattern("gw")

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(GatewayIdConverter, "gateway_id")

app_name = "gateway_api"
urlpatterns = [
    path("<gateway_id:gateway_id>/register", api.register, name="register"),
    path("<gateway_id:gateway_id>/config", api.config, name="config"),
    path("<gateway_id:gateway_id>/ack", api.ack, name="ack"),
]
