"""The VPNアクセス screens: list and search, create → confirm → complete, detail,
reissue and delete. Objects come only through vpnconsole.roles; changes only
through access.provisioning."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access import oneshot, provisioning, search
from access.forms import CreateAccessForm
from access.models import AccessStatus, Protocol, VpnAccess
from access.wireguard import config_filename
from gateways.models import Gateway
from vpnconsole import roles
from vpnconsole.errors import ProvisioningError
from vpnconsole.ids import id_pattern

DRAFT_KEY = "vpnconsole.create_draft"
LAST_CREATED_KEY = "vpnconsole.last_created"
STATUS_POLL_LIMIT = 100
ACCESS_ID = re.compile(id_pattern("va"))


def _source_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@require_GET
def access_list(request: HttpRequest) -> HttpResponse:
    q = search.normalise_query(request.GET.get("q"))
    accesses = search.filter_accesses(roles.accesses_for(request.user), q)
    page = search.page_of(
        accesses,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=settings.VPNCONSOLE_PAGE_SIZE,
    )
    contract = roles.membership_of(request.user).contract
    return render(
        request,
        "access/list.html",
        {
            "q": q,
            "page": page,
            "accesses": page.object_list,
            # ※ columns: only for a contract with a gateway contract; support sees all.
            "show_gateway_columns": contract is None or contract.has_gateway_contract,
            "show_contract_column": contract is None,
            # A one- or two-character search covers only the newest accesses; say so.
            "search_window": search.SHORT_WINDOW if search.is_windowed(q) else None,
        },
    )


def _gateway_for_draft(contract, public_id: str) -> Gateway | None:
    if not public_id:
        return None
    return Gateway.objects.filter(contract=contract, public_id=public_id).first()


@require_http_methods(["GET", "POST"])
def access_create(request: HttpRequest) -> HttpResponse:
    contract = roles.operator_contract(request.user)
    if request.method == "POST":
        form = CreateAccessForm(request.POST, contract=contract)
        if form.is_valid():
            request.session[DRAFT_KEY] = {**form.draft(), "token": secrets.token_urlsafe(16)}
            return redirect("access:confirm")
    else:
        # 「戻る」 from the confirm page comes back here: keep what was typed.
        form = CreateAccessForm(initial=request.session.get(DRAFT_KEY), contract=contract)
    return render(request, "access/create.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def access_confirm(request: HttpRequest) -> HttpResponse:
    contract = roles.operator_contract(request.user)
    draft = request.session.get(DRAFT_KEY)
    if request.method == "POST":
        return _create_from_draft(request, contract, draft)
    if not draft:
        return redirect("access:create")
    form = CreateAccessForm(draft, contract=contract)
    if not form.is_valid():
        return render(request, "access/create.html", {"form": form})
    return render(
        request,
        "access/confirm.html",
        {
            "draft": draft,
            "protocol_label": Protocol(draft["protocol"]).label,
            "gateway": form.cleaned_data.get("gateway"),
            "show_gateway": contract.has_gateway_contract,
        },
    )


def _create_from_draft(request: HttpRequest, contract, draft: dict | None) -> HttpResponse:
    token = request.POST.get("token", "")
    last = request.session.get(LAST_CREATED_KEY) or {}
    if token and last.get("token") == token:
        # A second 「作成」 of the same confirm page: show the first result, create nothing.
        return redirect("access:complete", public_id=last["access"])
    # constant_time_compare, not secrets.compare_digest: a non-ASCII token is a TypeError there.
    if not draft or not constant_time_compare(draft.get("token", ""), token):
        messages.error(request, _("入力内容の有効期限が切れました。もう一度入力してください。"))
        return redirect("access:create")
    form = CreateAccessForm(draft, contract=contract)
    if not form.is_valid():
        return render(request, "access/create.html", {"form": form})
    try:
        access, issued = provisioning.create_access(
            contract=contract,
            actor=request.user,
            protocol=form.cleaned_data["protocol"],
            device_name=form.cleaned_data["device_name"],
            gateway=form.cleaned_data.get("gateway"),
            source_address=_source_address(request),
        )
    except ProvisioningError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error))
        return render(request, "access/create.html", {"form": form})
    del request.session[DRAFT_KEY]
    request.session[LAST_CREATED_KEY] = {"token": token, "access": access.public_id}
    oneshot.stash(request.session, issued, purpose=oneshot.CREATED)
    return redirect("access:complete", public_id=access.public_id)


def _access_context(
    request: HttpRequest, access: VpnAccess, issued: provisioning.IssuedSecrets | None
) -> dict:
    context = {
        "access": access,
        "gateway_rows": [access.gateway],
        # The PSK is for the contract's own users; support staff read everything else.
        "show_psk": roles.can_write(request.user),
        "issued": issued,
    }
    if issued is None:
        return context
    if issued.client_config:
        context["config_filename"] = config_filename(access)
        context["config_data_url"] = "data:text/plain;charset=utf-8," + quote(issued.client_config)
        context["config_qr_svg"] = segno.make(issued.client_config, error="m").svg_inline(
            scale=4, title=_("WireGuard クライアント設定のQRコード")
        )
    return context


def _access_page(request: HttpRequest, public_id: str, template: str, purpose: str):
    """An access page that shows the one-time secrets ``purpose`` left, if any, once."""
    access = roles.get_access_for_user(request.user, public_id)
    issued = oneshot.take(request.session, access.public_id, purpose=purpose)
    response = render(request, template, _access_context(request, access, issued))
    # Secrets may be on the page: never keep it in any cache or the back/forward cache.
    response["Cache-Control"] = "no-store, max-age=0"
    response["Pragma"] = "no-cache"
    return response


@require_GET
def access_complete(request: HttpRequest, public_id: str) -> HttpResponse:
    return _access_page(request, public_id, "access/complete.html", oneshot.CREATED)


@require_GET
def access_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _access_page(request, public_id, "access/detail.html", oneshot.REISSUED)


@require_GET
def access_reissue_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    access = roles.get_rw_access_for_user(request.user, public_id)
    return render(request, "access/reissue_confirm.html", {"access": access})


@require_POST
def access_reissue(request: HttpRequest, public_id: str) -> HttpResponse:
    access = roles.get_rw_access_for_user(request.user, public_id)
    access, issued = provisioning.reissue_access(
        access, actor=request.user, source_address=_source_address(request)
    )
    oneshot.stash(request.session, issued, purpose=oneshot.REISSUED)
    messages.success(request, _("秘密鍵・パスワードを再発行しました。"))
    return redirect("access:detail", public_id=access.public_id)


@require_GET
def access_delete_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    access = roles.get_rw_access_for_user(request.user, public_id)
    return render(request, "access/delete_confirm.html", {"access": access})


@require_POST
def access_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    access = roles.get_rw_access_for_user(request.user, public_id)
    provisioning.delete_access(access, actor=request.user, source_address=_source_address(request))
    messages.success(
        request,
        _("VPNアクセス %(id)s（デバイス名: %(name)s）を削除しました。")
        % {"id": access.public_id, "name": access.device.name},
    )
    return redirect("access:list")


@require_GET
def access_status(request: HttpRequest) -> JsonResponse:
    """ステータス of up to 100 accesses, for the pages that show 準備中 ones."""
    # Only well-formed IDs reach the query: PostgreSQL refuses a NUL in a text parameter.
    requested = request.GET.get("ids", "").split(",")
    ids = [item for item in requested if ACCESS_ID.fullmatch(item)][:STATUS_POLL_LIMIT]
    rows = roles.accesses_for(request.user).filter(public_id__in=ids)
    labels = dict(AccessStatus.choices)
    return JsonResponse(
        {
            "statuses": {
                public_id: {"status": status, "label": str(labels[status])}
                for public_id, status in rows.values_list("public_id", "status")
            },
            "list_url": reverse("access:list"),
        }
    )
