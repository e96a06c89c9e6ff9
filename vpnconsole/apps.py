from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VpnconsoleConfig(AppConfig):
    name = "vpnconsole"
    verbose_name = _("契約とロール")

    def ready(self) -> None:
        from vpnconsole import signin  # noqa: F401  (connects the sign-in audit receivers)
