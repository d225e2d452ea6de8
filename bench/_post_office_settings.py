"""Django settings of the peer in ``send_speed``: django-post-office alone, as a Django project has it.

None of Tidings' apps is installed: the peer has its own database (``BENCH_PEER_DATABASE_URL``,
a scratch PostgreSQL database or an SQLite file the benchmark made) and sends through
Django's SMTP backend to the same sink (``BENCH_SINK_PORT`` on 127.0.0.1). Everything
else is post-office's defaults (batch size, threads per process, log level), unless the
benchmark passes ``BENCH_PEER_BATCH_SIZE``.
"""

from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = "send-speed-peer-not-secret"  # noqa: S105 - a benchmark's throwaway settings
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["post_office"]
DATABASES = {"default": dj_database_url.parse(os.environ["BENCH_PEER_DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("BENCH_SINK_PORT", "25"))
EMAIL_USE_TLS = False
DEFAULT_FROM_EMAIL = "news@example.com"

POST_OFFICE: dict[str, object] = {"BACKENDS": {"default": EMAIL_BACKEND}}
if os.environ.get("BENCH_PEER_BATCH_SIZE"):
    POST_OFFICE["BATCH_SIZE"] = int(os.environ["BENCH_PEER_BATCH_SIZE"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"post_office": {"handlers": ["console"], "level": "WARNING"}},
}
