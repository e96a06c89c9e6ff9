from django.contrib import admin

from devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "contract", "created_at"]
    search_fields = ["public_id", "name"]
    readonly_fields = ["public_id"]
