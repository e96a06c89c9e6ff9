"""The URLconf ``manage.py benchmark`` serves: the console's own URLs plus the
floor, a page that renders the base template and runs no query of its own, which
every measured page is compared to. Production never routes here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from vpnconsole import urls as console_urls

FLOOR_PATH = "bench/floor/"


def floor(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


urlpatterns = [*console_urls.urlpatterns, path(FLOOR_PATH, floor, name="bench_floor")]

handler403 = console_urls.handler403
handler404 = console_urls.handler404
handler500 = console_urls.handler500
