from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VpnconsoleConfig(AppConfig):
    name = "vpnconsole"
    verbose_name = _("契約とロール")
