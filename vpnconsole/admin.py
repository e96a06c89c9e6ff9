from django.contrib import admin

from vpnconsole.models import AuditEvent, Contract, Membership


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "has_gateway_contract", "created_at"]
    search_fields = ["public_id", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "contract"]
    list_filter = ["role"]
    autocomplete_fields = ["contract"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "object_id", "contract"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
