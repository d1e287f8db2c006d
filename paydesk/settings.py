"""Paydesk settings: one file, driven by the environment.

Unset `DATABASE_URL` / `REDIS_URL` mean "use the embedded servers under ./var/"
(see paydesk/embedded.py). Production sets both, plus SECRET_KEY,
PAYDESK_ENCRYPTION_KEYS, ALLOWED_HOSTS and DEBUG=0.
"""

from __future__ import annotations

import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from paydesk import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def local_secret(name: str, make) -> str:
    """A secret generated once and kept under ./var/, for the zero-configuration default.

    Production passes the value through the environment instead.
    """
    path = embedded.VAR_DIR / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY") or local_secret("secret_key", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys; the first encrypts, all decrypt (so keys can rotate).
PAYDESK_ENCRYPTION_KEYS = env_list("PAYDESK_ENCRYPTION_KEYS", "") or [
    local_secret("encryption_key", _fernet_key)
]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
PAYDESK_BASE_URL = env("PAYDESK_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "dashboard",
    "workbench",
    "payments",
    "billing",
    "connect",
    "reporting",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "connect.middleware.ExpressIsolationMiddleware",
    "dashboard.middleware.TenantMiddleware",
]

ROOT_URLCONF = "paydesk.urls"
WSGI_APPLICATION = "paydesk.wsgi.application"
AUTH_USER_MODEL = "dashboard.User"
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:entry"
LOGOUT_REDIRECT_URL = "dashboard:login"

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
                "dashboard.context_processors.shell",
            ],
        },
    },
]

# --- Services ---------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL") or embedded.ensure_postgres()
REDIS_URL = env("REDIS_URL") or embedded.ensure_redis()

DATABASES = {
    # Persistent connections: a new connection per request made a simple endpoint 3.8x
    # slower here. Health checks drop a connection the server closed in between.
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(env("CONN_MAX_AGE", "600")), conn_health_checks=True
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "paydesk",
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged after it ran, so a worker killed mid-task hands it to another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE: dict = {
    # The safety net for a lost drain trigger and for due retries when nothing else arrives.
    "workbench-drain-events": {"task": "workbench.drain_events", "schedule": 60.0},
    "workbench-prune-logs": {
        "task": "workbench.prune_logs",
        "schedule": crontab(hour=3, minute=0),
    },
    # Saved reports due (daily/weekly/monthly, just after midnight in each account's zone).
    "reporting-scheduled-reports": {
        "task": "reporting.scheduled_reports_run",
        "schedule": crontab(minute="*/15"),
    },
    # Exports whose worker died (stale heartbeat) or whose message was lost start again.
    "reporting-restart-stale-exports": {
        "task": "reporting.exports_restart_stale",
        "schedule": 120.0,
    },
}

# --- Stripe -----------------------------------------------------------------------------
PAYDESK_SANDBOX_HTTP_CLIENT = "sandbox.client.SandboxHTTPClient"
PAYDESK_STRIPE_MAX_NETWORK_RETRIES = int(env("PAYDESK_STRIPE_MAX_NETWORK_RETRIES", "2"))
PAYDESK_EVENT_MAX_ATTEMPTS = int(env("PAYDESK_EVENT_MAX_ATTEMPTS", "5"))
PAYDESK_EVENT_RETRY_BASE_SECONDS = int(env("PAYDESK_EVENT_RETRY_BASE_SECONDS", "30"))
PAYDESK_WEBHOOK_SECRET_OVERLAP = timedelta(
    hours=int(env("PAYDESK_WEBHOOK_SECRET_OVERLAP_HOURS", "24"))
)
PAYDESK_LOG_RETENTION_DAYS = int(env("PAYDESK_LOG_RETENTION_DAYS", "30"))
# Requests per key and window on the REST API; past it, 429 with Retry-After.
PAYDESK_API_RATE_LIMIT_READ = int(env("PAYDESK_API_RATE_LIMIT_READ", "100"))
PAYDESK_API_RATE_LIMIT_WRITE = int(env("PAYDESK_API_RATE_LIMIT_WRITE", "25"))
PAYDESK_API_RATE_LIMIT_WINDOW_SECONDS = int(env("PAYDESK_API_RATE_LIMIT_WINDOW_SECONDS", "1"))

# --- Auth and sessions ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# --- Security (production: DEBUG=0 and HTTPS in front) -----------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and env_bool("PAYDESK_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Paydesk <paydesk@localhost>")

# --- I18N, static, media ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Production runs `collectstatic` and sets PAYDESK_STATIC_MANIFEST=1 for hashed, compressed,
# cache-forever files; otherwise whitenoise serves straight from the source folders.
STATIC_MANIFEST = env_bool("PAYDESK_STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Without collectstatic there is no STATIC_ROOT yet; whitenoise then serves from the finders.
warnings.filterwarnings("ignore", message="No directory at")

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Paydesk API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The SDK logs request bodies at DEBUG, which can hold card data and secrets.
        "stripe": {"level": "WARNING"},
    },
}
