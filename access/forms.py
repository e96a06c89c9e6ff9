"""The create form (作成画面): プロトコル, デバイス名 and VPNゲートウェイ (gateway contracts)."""

from __future__ import annotations

import unicodedata

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import Protocol
from devices.models import DEVICE_NAME_MAX_LENGTH, Device
from gateways.models import Gateway
from vpnconsole.models import Contract


class GatewayChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, gateway: Gateway) -> str:
        return f"{gateway.name} ({gateway.public_id})"


class CreateAccessForm(forms.Form):
    protocol = forms.ChoiceField(
        label=_("プロトコル"),
        choices=Protocol.choices,
        widget=forms.RadioSelect,
        help_text=_("作成後はプロトコルを変更できません。"),
        error_messages={
            "required": _("プロトコルを選択してください。"),
            "invalid_choice": _("プロトコルを選択してください。"),
        },
    )
    device_name = forms.CharField(
        label=_("デバイス名"),
        max_length=DEVICE_NAME_MAX_LENGTH,
        error_messages={
            "required": _("デバイス名を入力してください。"),
            "max_length": _("デバイス名は%(limit_value)d文字以内で入力してください。"),
        },
    )
    gateway = GatewayChoiceField(
        label=_("VPNゲートウェイ"),
        queryset=Gateway.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("指定しない（共用ゲートウェイ）"),
        help_text=_("作成後はVPNゲートウェイを変更できません。"),
        error_messages={"invalid_choice": _("選択できないVPNゲートウェイです。")},
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        # Formatted here, not at import: "%" turns a lazy string into the language
        # active at that moment, which at import is always the default, Japanese.
        self.fields["device_name"].help_text = _(
            "VPNアクセスで接続するデバイスを識別する名称です（%(max)s文字以内）。"
        ) % {"max": DEVICE_NAME_MAX_LENGTH}
        if contract.has_gateway_contract:
            self.fields["gateway"].queryset = Gateway.objects.filter(contract=contract).order_by(
                "name"
            )
        else:
            del self.fields["gateway"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_device_name(self) -> str:
        name = unicodedata.normalize("NFC", self.cleaned_data["device_name"].strip())
        if not name:
            raise forms.ValidationError(_("デバイス名を入力してください。"))
        if any(unicodedata.category(char).startswith("C") for char in name):
            raise forms.ValidationError(_("デバイス名に制御文字は使えません。"))
        if Device.objects.filter(contract=self.contract, name__iexact=name).exists():
            raise forms.ValidationError(
                _("デバイス名「%(name)s」は既に使われています。") % {"name": name}
            )
        return name

    def draft(self) -> dict:
        """What the confirm step needs, as plain data for the session."""
        gateway = self.cleaned_data.get("gateway")
        return {
            "protocol": self.cleaned_data["protocol"],
            "device_name": self.cleaned_data["device_name"],
            "gateway": gateway.public_id if gateway else "",
        }
