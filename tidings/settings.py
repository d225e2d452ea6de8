"""Tidings settings: one module, driven by TIDINGS_* environment variables.

See docs/configuration.md for every variable. A wrong value stops the start
with one line naming the variable (``tidings.core.config.ConfigError``).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from tidings.core import config

ENV = os.environ

DATA_DIR = config.data_dir(ENV)
DEBUG = config.env_bool(ENV, "TIDINGS_DEBUG", False)
SECRET_KEY = config.secret_key(ENV, DATA_DIR)
BASE_URL = config.base_url(ENV)
_base = urlsplit(BASE_URL)

ALLOWED_HOSTS = config.env_list(ENV, "TIDINGS_ALLOWED_HOSTS") or [
    _base.hostname,
    "localhost",
    "127.0.0.1",
    "[::1]",
]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _base.scheme == "https"
# Only a proxy that sets X-Forwarded-Proto itself may be believed about it.
BEHIND_PROXY = config.env_bool(ENV, "TIDINGS_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

DATABASES = {"default": config.database(ENV, DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS_BACKEND = config.env_choice(ENV, "TIDINGS_TASKS_BACKEND", config.TASK_BACKENDS, "db")
TASK_QUEUES = ["default"]
REDIS_URL = config.redis_url(ENV)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks_db",
    "tidings.core",
    "tidings.audience",
    "tidings.content",
    "tidings.drafts",
    "tidings.sending",
    "tidings.campaigns",
    "tidings.tracking",
    "tidings.hooks",
    "tidings.web",
]

if TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in TASK_QUEUES}
else:
    TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": TASK_QUEUES,
        }
    }

MIDDLEWARE = [
    # First, so that every error under /api/ leaves as problem+json, also those
    # raised by the middleware below it (a bad Host header, a too large body).
    "tidings.api.problem_middleware",
    # Next, so that a stored answer is given before any other work is done.
    "tidings.api.idempotency_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tidings.urls"
WSGI_APPLICATION = "tidings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tidings.web.context.navigation",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Static files are few and ship inside the package: serve them straight from
# the app folders, so a fresh checkout needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOG_FORMAT = config.env_choice(ENV, "TIDINGS_LOG_FORMAT", ("text", "json"), "text")
LOG_LEVEL = config.env_choice(ENV, "TIDINGS_LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "tidings.core.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # flufl.bounce names every detector it tries at INFO: 17 lines for each bounce read; httpx a
    # line for every request (each webhook delivery, each AI call), which the delivery log holds.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "flufl.bounce": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Later areas read these; they are settings so one deployment can tune them.
API_KEY_TOUCH_SECONDS = 60

# Hosts an AI provider's base URL may name although they are loopback or private
# (Ollama on this machine: 127.0.0.1). Every other private address is refused.
AI_ALLOWED_HOSTS = config.env_list(ENV, "TIDINGS_AI_ALLOWED_HOSTS") or []
# Hosts a webhook endpoint may name although they are loopback or private, and
# which may then be called over plain http (a receiver on a developer's machine).
WEBHOOK_ALLOWED_HOSTS = config.env_list(ENV, "TIDINGS_WEBHOOK_ALLOWED_HOSTS") or []
# A CA bundle to verify webhook receivers' certificates against (an internal CA); else the system's.
WEBHOOK_CA_FILE = ENV.get("TIDINGS_WEBHOOK_CA_FILE", "")
# A CA bundle to verify SMTP relays' certificates against (an internal CA); else the system's.
SMTP_CA_FILE = ENV.get("TIDINGS_SMTP_CA_FILE", "")
# Opens and clicks are written in batches this often (seconds); 0 writes each in its request.
TRACKING_FLUSH_SECONDS = config.env_number(ENV, "TIDINGS_TRACKING_FLUSH_SECONDS", 0.5)
# Sending domains: the resolver that checks their DNS records ("ip" or "ip:port"; empty:
# the system's), what SPF should include, and where the return-path CNAME points.
DNS_RESOLVER = ENV.get("TIDINGS_DNS_RESOLVER", "")
SPF_INCLUDE = ENV.get("TIDINGS_SPF_INCLUDE", "")
RETURN_PATH_HOST = ENV.get("TIDINGS_RETURN_PATH_HOST", "")
# The send pipeline: how long a worker holds the messages it claimed (a worker that dies
# loses them after this long), how many it claims at a time, and how failures are retried.
SEND_LEASE_SECONDS = config.env_number(ENV, "TIDINGS_SEND_LEASE_SECONDS", 60, minimum=1)
SEND_BATCH_SIZE = int(config.env_number(ENV, "TIDINGS_SEND_BATCH_SIZE", 50, minimum=1))
# Senders started for each campaign: one per worker process that should work on it at once.
SEND_SENDERS = int(config.env_number(ENV, "TIDINGS_SEND_SENDERS", 2, minimum=1))
SEND_MAX_ATTEMPTS = int(config.env_number(ENV, "TIDINGS_SEND_MAX_ATTEMPTS", 6, minimum=1))
SEND_RETRY_SECONDS = config.env_number(ENV, "TIDINGS_SEND_RETRY_SECONDS", 60, minimum=0)
SEND_RETRY_MAX_SECONDS = config.env_number(ENV, "TIDINGS_SEND_RETRY_MAX_SECONDS", 3600, minimum=0)
# Largest message (headers and both bodies, before signing) a send may produce.
SEND_MAX_MESSAGE_BYTES = int(
    config.env_number(ENV, "TIDINGS_SEND_MAX_MESSAGE_BYTES", 10_000_000, minimum=1000)
)
# Bounces of mail sent over SMTP: the domain of the return path (default: bounces.<the from
# domain>, the CNAME each sending domain publishes), a mailbox to read them from, the CA bundle
# to verify that mailbox's certificate against, and the largest bounce message read.
BOUNCE_DOMAIN = config.domain_name(ENV, "TIDINGS_BOUNCE_DOMAIN")
BOUNCE_MAILBOX = config.mailbox_url(ENV)
BOUNCE_MAILBOX_CA_FILE = ENV.get("TIDINGS_BOUNCE_MAILBOX_CA_FILE", "")
BOUNCE_MAX_BYTES = int(config.env_number(ENV, "TIDINGS_BOUNCE_MAX_BYTES", 10_000_000, minimum=10_000))
