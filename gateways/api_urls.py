from django.urls import path, register_converter

from gateways import api
from vpnconsole.converters import GatewayIdConverter

register_converter(GatewayIdConverter, "gateway_id")

app_name = "gateway_api"
urlpatterns = [
    path("<gateway_id:gateway_id>/register", api.register, name="register"),
    path("<gateway_id:gateway_id>/config", api.config, name="config"),
    path("<gateway_id:gateway_id>/ack", api.ack, name="ack"),
]
