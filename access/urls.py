from django.urls import path, register_converter

from access import views
from vpnconsole.converters import AccessIdConverter

register_converter(AccessIdConverter, "access_id")

app_name = "access"

ACCESS = "<access_id:public_id>"

urlpatterns = [
    path("", views.access_list, name="list"),
    path("new/", views.access_create, name="create"),
    path("new/confirm/", views.access_confirm, name="confirm"),
    path("status/", views.access_status, name="status"),
    path(f"{ACCESS}/", views.access_detail, name="detail"),
    path(f"{ACCESS}/complete/", views.access_complete, name="complete"),
    path(f"{ACCESS}/reissue/confirm/", views.access_reissue_confirm, name="reissue_confirm"),
    path(f"{ACCESS}/reissue/", views.access_reissue, name="reissue"),
    path(f"{ACCESS}/delete/confirm/", views.access_delete_confirm, name="delete_confirm"),
    path(f"{ACCESS}/delete/", views.access_delete, name="delete"),
]
