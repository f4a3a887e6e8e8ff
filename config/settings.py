"""Allot's settings: everything a deployment changes comes from environment variables.

README.md lists every variable with its default. Defaults are safe: DEBUG is off unless asked
for, and without DEBUG a SECRET_KEY must be given.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see README.md).")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.orcid",
    "allauth.socialaccount.providers.openid_connect",
    "django_countries",
    "ninja",
    "accounts",
    "notifications",
    "proposals",
    "allocations",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accounts.middleware.ControlCharacterPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.request_memo.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.TimezoneMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.PrivacyHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "proposals.home.context_processors.committee_menu",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"), BASE_DIR)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
    # Sessions signed in before accounts.backends existed name these.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

# --- django-allauth: email sign-in, mandatory verification, ORCID and OIDC by settings ---
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Allot] "
ACCOUNT_ADAPTER = "notifications.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_ONLY = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# A code of the 30-second period before or after is accepted too: a phone's clock drifts, and a
# code typed at a period's last second reaches the server in the next one (a test hit it).
MFA_TOTP_TOLERANCE = 1
MFA_FORMS = {
    "activate_totp": "accounts.mfa_forms.ActivateTOTPForm",
    "authenticate": "accounts.mfa_forms.AuthenticateForm",
    "reauthenticate": "accounts.mfa_forms.ReauthenticateForm",
}
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Allot")

SOCIALACCOUNT_PROVIDERS: dict = {}
ORCID_CLIENT_ID = env_str("ORCID_CLIENT_ID")
if ORCID_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["orcid"] = {
        "BASE_DOMAIN": env_str("ORCID_BASE_DOMAIN", "orcid.org"),
        "MEMBER_API": env_bool("ORCID_MEMBER_API", False),
        "APPS": [{"client_id": ORCID_CLIENT_ID, "secret": env_str("ORCID_CLIENT_SECRET", "")}],
    }
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
if OIDC_CLIENT_ID:
    oidc_server_url = env_str("OIDC_SERVER_URL")
    if not oidc_server_url:
        raise ImproperlyConfigured("OIDC_SERVER_URL must be set together with OIDC_CLIENT_ID.")
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": env_str("OIDC_PROVIDER_ID", "institution"),
                "name": env_str("OIDC_PROVIDER_NAME", "Institutional login"),
                "client_id": OIDC_CLIENT_ID,
                "secret": env_str("OIDC_CLIENT_SECRET", ""),
                "settings": {"server_url": oidc_server_url},
            }
        ]
    }

# --- Internationalisation and time ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# --- Files ---
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Uploaded files live outside the static files and are only served through views that check
# permission; MEDIA_URL is deliberately not routed.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "uploads")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email (Django 6.1 mailers) ---
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 30),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Allot <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 60)

# --- Celery: without a broker every task runs inline, in the request that queues it ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "outbox-requeue-stuck": {
        "task": "notifications.requeue_stuck",
        "schedule": 300.0,
    },
    "usage-import-directory": {
        "task": "allocations.import_usage_directory",
        "schedule": 900.0,
    },
    "allocations-quota-evaluate": {
        "task": "allocations.quota_evaluate",
        "schedule": 3600.0,
    },
    "proposals-deadline-reminders": {
        "task": "proposals.deadline_reminders",
        "schedule": 3600.0,
    },
    "proposals-review-reminders": {
        "task": "proposals.review_reminders",
        "schedule": 3600.0,
    },
    "proposals-reply-closing-reminders": {
        "task": "proposals.reply_closing_reminders",
        "schedule": 3600.0,
    },
    "proposals-call-status-changes": {
        "task": "proposals.call_status_changes",
        "schedule": 300.0,
    },
    "proposals-begin-review": {
        "task": "proposals.begin_review",
        "schedule": 300.0,
    },
}
# Directory of sacct output files imported every 15 minutes; empty: no import (PRODUCT §8).
USAGE_IMPORT_DIR = env_str("USAGE_IMPORT_DIR", "")
# Cluster login names (PRODUCT §8): the OpenID Connect claim that carries a person's login name
# (e.g. "preferred_username"; empty: logins are set by staff only), and the clusters it names
# the login on (empty: every cluster a resource is on).
CLUSTER_LOGIN_CLAIM = env_str("CLUSTER_LOGIN_CLAIM", "")
CLUSTER_LOGIN_CLAIM_CLUSTERS = env_list("CLUSTER_LOGIN_CLAIM_CLUSTERS", [])
# Days after an allocation's period ends before slurm_sync stops its account from running jobs.
SLURM_GRACE_DAYS = env_int("SLURM_GRACE_DAYS", 14)

# --- Security ---
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Submitting a domain to the browsers' HSTS preload list is the operator's decision
# (SECURE_HSTS_PRELOAD=true); the check that nags about it is silenced, no other.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# How many proxies in front of the app append to X-Forwarded-For. The client's address (what
# the sign-in rate limits count) is read from that header only this many hops back; with 0
# the header is ignored, so nobody can claim another address by sending it.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Cache ---
# Shared by every worker process and surviving a restart, because allauth keeps its sign-in
# rate limits here: Redis when CACHE_URL names one, else a table in the database (created by
# accounts' migration 0003). Never a per-process memory cache.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "allot_cache",
        }
    }
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "plain": {"format": "%(levelname)s %(name)s: %(message)s"},
    },
    "filters": {"secret_links": {"()": "config.logging.SecretLinkFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # JSON for log collectors in production; readable lines while developing.
            "formatter": env_str("LOG_FORMAT", "plain" if DEBUG else "json"),
            # PRODUCT §1.1: no log holds a password reset, confirmation or invitation link.
            "filters": ["secret_links"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The API (PRODUCT §9): uses of one token per minute (counted in the shared cache above), and
# the largest usage file a push may send.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 120)
API_USAGE_MAX_BYTES = env_int("API_USAGE_MAX_BYTES", 512 * 1024 * 1024)
NINJA_PAGINATION_PER_PAGE = 100

# Call managers are the members of this group (PRODUCT §1).
CALL_MANAGERS_GROUP = "Call managers"
