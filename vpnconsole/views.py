"""Error pages in the console's look."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader


def bad_request(request, exception=None):
    # An oversized or malformed body, or a Host header not in ALLOWED_HOSTS: the
    # latter fails before AuthenticationMiddleware, so the page has no user yet.
    if request.path_info.startswith("/api/"):
        # The gateway agent reads JSON errors (gateways/api.py), not pages.
        message = "request body too large or malformed"
        return JsonResponse({"error": "bad_request", "message": message}, status=400)
    if not hasattr(request, "user"):
        request.user = AnonymousUser()
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", {"reason": exception}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No request context: the database may be what failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)
