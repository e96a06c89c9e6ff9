from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("", views.access_list, name="list"),
]
