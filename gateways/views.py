"""The VPNゲートウェイ screen: the gateways a user's accesses can terminate on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vpnconsole import roles


@require_GET
def gateway_list(request: HttpRequest) -> HttpResponse:
    gateways = roles.gateways_for(request.user).order_by("contract_id", "name")
    return render(request, "gateways/list.html", {"gateways": gateways})
