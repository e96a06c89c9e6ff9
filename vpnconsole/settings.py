"""Settings for the VPN access console, read from the environment.

Development runs with DEBUG=1 and well-known development keys; with DEBUG off
the console refuses to start until real keys are given.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from vpnconsole.env import env_bool, env_int, env_list, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VPNCONSOLE_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("DEBUG", default=False)

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105
# kid:base64url(32 bytes). Only for development; refused with DEBUG off.
DEV_ENCRYPTION_KEY = "dev:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="

SECRET_KEY = os.environ.get("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else "")
# Newest key first: it encrypts; every listed key can decrypt (rotation).
VPNCONSOLE_ENCRYPTION_KEYS = env_list(
    "VPNCONSOLE_ENCRYPTION_KEYS", [DEV_ENCRYPTION_KEY] if DEBUG else []
)

if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is the development key. Set SECRET_KEY in the "
            "environment (or DEBUG=1 for development)."
        )
    if not VPNCONSOLE_ENCRYPTION_KEYS or DEV_ENCRYPTION_KEY in VPNCONSOLE_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "VPNCONSOLE_ENCRYPTION_KEYS is missing or contains the development key. Set it "
            "to 'kid:base64key' entries, newest first (manage.py generate_encryption_key "
            "prints one), or DEBUG=1 for development."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "vpnconsole",
    "gateways",
    "devices",
    "access",
]

MIDDLEWARE = [
    "vpnconsole.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vpnconsole.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it turns the lockout flag set during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vpnconsole.urls"
WSGI_APPLICATION = "vpnconsole.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "vpnconsole.roles.context_processor",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    # The embedded default: the first run on a fresh clone just works.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'console.sqlite3'}"), BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Axes first: it refuses a locked-out user name before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("VPNCONSOLE_LOGIN_FAILURE_LIMIT", 10)
# By user name only: an attacker rotating addresses still hits the limit, and one
# office behind a NAT does not lock out all its colleagues. Spraying one password
# over many user names is the reverse proxy's per-address rate limit's job (README),
# hence axes' warning that ip_address is not among the parameters is silenced.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("VPNCONSOLE_LOCKOUT_MINUTES", 30))
AXES_RESET_ON_SUCCESS = True
# Sign-ins are in the 操作履歴 already; one place keeps who signed in from where.
AXES_DISABLE_ACCESS_LOG = True
# The cool-off counts from the lockout: attempts during it neither extend it nor count.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "vpnconsole.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "vpnconsole.proxy.client_address"
# People type passwords into the user name field: an unknown name is stored and
# logged only as a keyed hash, and the typed form fields are masked.
AXES_USERNAME_CALLABLE = "vpnconsole.signin.lockout_username"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "csrfmiddlewaretoken"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "access:list"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = env_int("VPNCONSOLE_SESSION_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG and env_bool("VPNCONSOLE_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "vpnconsole.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# TLS usually ends at the reverse proxy: name the header it sets (X-Forwarded-Proto)
# so that Django knows the request was https. Only behind a proxy that overwrites it.
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header and not _proxy_ssl_header.replace("-", "").isalnum():
    raise ImproperlyConfigured(
        f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, "
        f"not {_proxy_ssl_header!r}"
    )
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
# How many proxies in front of the console append to X-Forwarded-For; 0 trusts none
# and the audit trail records the peer's own address.
VPNCONSOLE_TRUSTED_PROXIES = env_int("VPNCONSOLE_TRUSTED_PROXIES", 0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading binds the whole registered domain to HTTPS for years: the domain's
    # owner decides that, not the console (SECURE_HSTS_PRELOAD=1 once they have).
    SILENCED_SYSTEM_CHECKS += ["security.W021"]
# No inline script or style anywhere; the nonce is only for the Django admin's
# few nonce-carrying tags. Bootstrap's CSS draws its form icons as data: images.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("VPNCONSOLE_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Hashed, compressed files from collectstatic in production; the tests and DEBUG
# serve the source files, so they need no collectstatic first.
_static_manifest = env_bool("VPNCONSOLE_STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _static_manifest
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _static_manifest

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

from django.contrib.messages import constants as message_constants  # noqa: E402

MESSAGE_TAGS = {message_constants.ERROR: "danger"}

VPNCONSOLE_PAGE_SIZE = 50
# How often the list and detail pages ask for the status of 準備中 accesses.
VPNCONSOLE_STATUS_POLL_MS = env_int("VPNCONSOLE_STATUS_POLL_MS", 2000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VPNCONSOLE_LOG_LEVEL", "INFO")},
    # axes greets every process start at INFO; its warnings (lockouts) still show.
    "loggers": {"axes": {"level": "WARNING"}},
}
