from django.contrib import admin

from access.models import VpnAccess


@admin.register(VpnAccess)
class VpnAccessAdmin(admin.ModelAdmin):
    """Read-only: accesses change only through the console, which audits and provisions."""

    list_display = [
        "public_id",
        "protocol",
        "status",
        "device",
        "gateway",
        "contract",
        "created_at",
    ]
    list_filter = ["protocol", "status"]
    search_fields = ["public_id"]
    exclude = ["password_ciphertext"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
