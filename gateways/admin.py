from django.contrib import admin

from gateways.models import Gateway


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "name",
        "contract",
        "status",
        "endpoint_host",
        "revision",
        "applied_revision",
    ]
    list_filter = ["status"]
    search_fields = ["public_id", "name"]
    readonly_fields = [
        "public_id",
        "wg_public_key",
        "revision",
        "served_revision",
        "applied_revision",
        "registered_at",
        "last_seen_at",
    ]
