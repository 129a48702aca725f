"""Settings shared by every environment. Every value comes from the environment (config/env.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    BASE_DIR,
    database_from_url,
    env_bool,
    env_decimal_str,
    env_int,
    env_list,
    env_payment_reference,
    env_secret,
    env_str,
    var_dir,
)

VAR_DIR = var_dir()

# An insecure key that only the local settings accept; production refuses it.
INSECURE_SECRET_KEY = "django-insecure-local-only-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "Data Collective")
# Where people reach this instance (no trailing slash): emails link to its pages. Empty: no links.
SITE_URL = env_str("SITE_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "csp",
    # Accounts people trust (marketplace/accounts): email verification, password reset, sign-in with
    # OpenID Connect and second factors (TOTP, recovery codes, WebAuthn), all from django-allauth.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "marketplace",
    "licensing",
    "provenance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RefuseNulInUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "marketplace.organizations.moves.MovedMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.DependencyUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "marketplace.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "home"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

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
                "marketplace.context_processors.site",
                "marketplace.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/datacollective")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Pages speak the visitor's language: chosen with the switcher (a cookie), else the browser's
# Accept-Language, else English. English and Korean are complete, Spanish is the third; the
# catalogs live in locale/ and are compiled by `make` (manage.py compile_translations).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어"), ("es", "Español")]
COMPLETE_LANGUAGES = ["ko", "es"]  # tests/test_translations.py fails on a message missing in one of these
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Object storage: one S3-compatible bucket. The public endpoint is the one that presigned
# URLs name, for clients outside the network the app reaches storage on.
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL", None)
S3_PUBLIC_ENDPOINT_URL = env_str("S3_PUBLIC_ENDPOINT_URL", None) or S3_ENDPOINT_URL
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = env_secret("S3_SECRET_ACCESS_KEY", "")
S3_REGION = env_str("S3_REGION", "us-east-1")
S3_BUCKET = env_str("S3_BUCKET", "datacollective")
S3_CONNECT_TIMEOUT = env_int("S3_CONNECT_TIMEOUT", 5, minimum=1)
# Web and worker ask storage as a stranger when they start and stop if it answers (production turns it on).
REFUSE_OPEN_STORAGE_ON_START = env_bool("REFUSE_OPEN_STORAGE_ON_START", False)
# Addresses people give (another instance's, a new home) may be on a private network or this
# machine: on for one machine (make run, the tests), off in production (config/outbound.py).
OUTBOUND_PRIVATE_ADDRESSES = env_bool("OUTBOUND_PRIVATE_ADDRESSES", True)

# Celery. The default broker is kombu's filesystem transport in var/broker: a real broker
# that needs no install, for one machine. Production names RabbitMQ or Redis.
# The cache: rate-limit counters, the catalog's counts and its answers. `locmem://` (the default) keeps
# them per process, so with N web processes a rate limit admits up to N times its rate; a
# deployment names a shared one: `redis://host:6379/1`, or `database://` (a PostgreSQL table
# made by a migration: exact, but a few queries per API call).
CACHE_URL = env_str("CACHE_URL", "locmem://")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL == "database://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
elif CACHE_URL == "locmem://":
    # Room for the catalog's answers to its popular searches (a few to tens of KiB each) beside the
    # counts: Django's default of 300 entries would drop them as fast as they are made.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}}
else:
    raise ImproperlyConfigured(
        f"CACHE_URL={CACHE_URL!r}: use locmem:// (the default, per process), redis://host:port/db or database://"
    )

# After a change to the catalog, a count that took this long (a million datasets' facet counts:
# seconds) is shown at its last value while a thread counts it again, instead of every visitor
# waiting for it (marketplace/catalog/search.py, _counted). The last value is shown for about as
# long as the count takes, so the bar sits well below the catalog's 50 ms a page. None: every
# count waits (the tests, whose catalogs count in milliseconds, so that no count depends on the
# machine's speed).
CATALOG_SLOW_COUNT_SECONDS: float | None = env_int("CATALOG_SLOW_COUNT_MS", 25, minimum=1) / 1000
# The catalog's answers (an API page of a search, the catalog page's results and filters) kept until
# the catalog changes, for everyone who asks the same (marketplace/catalog/search.py, remembered):
# a search asked again costs a cache read instead of its SQL, rows and rendering. Off: every
# answer is made anew (the counts stay cached).
CATALOG_CACHE_ANSWERS = env_bool("CATALOG_CACHE_ANSWERS", True)
# How long a process trusts the catalog's generation it last read from the database (seconds): a
# change committed in another process (the worker, the other web process) reaches this one's kept
# answers within this time, one made in this process at once. A kept answer then asks the database
# nothing; 0 reads the generation on every request.
CATALOG_GENERATION_SECONDS = env_int("CATALOG_GENERATION_MS", 100, minimum=0) / 1000

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = env_str("CELERY_BROKER_DIR", str(VAR_DIR / "broker"))
CELERY_TASK_MAX_SECONDS = env_int("CELERY_TASK_MAX_SECONDS", 3600, minimum=10)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": CELERY_BROKER_DIR,
        "data_folder_out": CELERY_BROKER_DIR,
        "control_folder": CELERY_BROKER_DIR + "/control",
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis redelivers an unacked task after the visibility timeout: it must outlast the
    # longest task, or a long validation would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_MAX_SECONDS * 2}
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process whose peak resident memory passed this after a task is replaced by a fresh one
# (prefork pools; in KiB): the viewer's exports and indexes load pyarrow and DuckDB and reach a few
# hundred MiB, and a validation that came after them in the same process would start there instead
# of from a fresh process's ~130 MiB (validation is held to a peak under 256 MiB).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("WORKER_MAX_MEMORY_MIB", 256, minimum=64) * 1024
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_MAX_SECONDS - 5
CELERY_TASK_TIME_LIMIT = CELERY_TASK_MAX_SECONDS
# One queue for every task; its name from the environment, so that test runs in parallel (and
# instances sharing a broker) keep their tasks apart.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TASK_ROUTES = {
    "marketplace.tasks.*": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "provenance.tasks.*": {"queue": CELERY_TASK_DEFAULT_QUEUE},
}
# How often beat runs the validation sweeper (marketplace.tasks.requeue_stuck_validations).
VALIDATION_SWEEP_SECONDS = env_int("VALIDATION_SWEEP_SECONDS", 300, minimum=5)
# Federation and witnessing (provenance/federation/): how often beat syncs followed peers, cosigns
# witnessed peers' heads and collects our witnesses' cosignatures; what one answer of a peer may
# take (seconds to connect, seconds for the whole answer) and weigh.
FEDERATION_SYNC_SECONDS = env_int("FEDERATION_SYNC_SECONDS", 900, minimum=10)
WITNESS_SECONDS = env_int("WITNESS_SECONDS", 300, minimum=10)
FEDERATION_CONNECT_TIMEOUT = env_int("FEDERATION_CONNECT_TIMEOUT", 5, minimum=1)
FEDERATION_READ_TIMEOUT = env_int("FEDERATION_READ_TIMEOUT", 30, minimum=1)
FEDERATION_MAX_ANSWER_BYTES = env_int("FEDERATION_MAX_ANSWER_BYTES", 32 * 1024 * 1024, minimum=1024)
CELERY_BEAT_SCHEDULE = {
    "sync-followed-peers": {
        "task": "provenance.tasks.sync_followed_peers",
        "schedule": timedelta(seconds=FEDERATION_SYNC_SECONDS),
    },
    "witness-peers": {"task": "provenance.tasks.witness_peers", "schedule": timedelta(seconds=WITNESS_SECONDS)},
    "collect-cosignatures": {
        "task": "provenance.tasks.collect_cosignatures",
        "schedule": timedelta(seconds=WITNESS_SECONDS),
    },
    "clear-expired-sessions": {
        "task": "marketplace.tasks.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
    },
    "abort-unfinished-uploads": {
        "task": "marketplace.tasks.abort_unfinished_uploads",
        "schedule": crontab(minute=41),
    },
    "requeue-stuck-validations": {
        "task": "marketplace.tasks.requeue_stuck_validations",
        "schedule": timedelta(seconds=VALIDATION_SWEEP_SECONDS),
    },
    "requeue-stuck-rereleases": {
        "task": "licensing.tasks.requeue_stuck_rereleases",
        "schedule": timedelta(seconds=VALIDATION_SWEEP_SECONDS),
    },
    "requeue-unstored-members": {
        "task": "marketplace.tasks.requeue_unstored_members",
        "schedule": timedelta(seconds=VALIDATION_SWEEP_SECONDS),
    },
    "expire-invoices": {
        "task": "licensing.tasks.expire_invoices",
        "schedule": crontab(minute=23),
    },
    "requeue-parquet-exports": {
        "task": "marketplace.tasks.requeue_parquet_exports",
        "schedule": timedelta(seconds=VALIDATION_SWEEP_SECONDS),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "licensing.keys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [
        "licensing.keys.throttling.PerKeyRateThrottle",
        "licensing.keys.throttling.PerIpRateThrottle",
    ],
    # ?format= is a catalog filter (MDC contract), not a renderer override.
    "URL_FORMAT_OVERRIDE": None,
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR, so a
    # client cannot pick its own rate-limit bucket with a forged header.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Data Collective API",
    "DESCRIPTION": "Catalog, licensing, downloads and provenance of a Data Collective instance.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api_schema.postprocess"],
}

API_KEY_DEFAULT_EXPIRY = timedelta(days=env_int("API_KEY_DEFAULT_EXPIRY_DAYS", 90, minimum=1, maximum=3650))
API_KEY_MAX_EXPIRY = timedelta(days=env_int("API_KEY_MAX_EXPIRY_DAYS", 365, minimum=1, maximum=3650))
PLATFORM_FEE_RATE = env_decimal_str("PLATFORM_FEE_RATE", "0.05")
# Ed25519 key (PEM) that signs manifests and tree heads; empty: generated into VAR_DIR/provenance/.
PROVENANCE_SIGNING_KEY = env_secret("PROVENANCE_SIGNING_KEY", "")
MAX_ARCHIVE_BYTES = env_int("MAX_ARCHIVE_BYTES", 50 * 1024**3, minimum=1)
MAX_SAMPLE_BYTES = env_int("MAX_SAMPLE_BYTES", 1024**3, minimum=1)
# Part URLs are asked for just before each PUT; an hour covers a slow 5 GiB part.
UPLOAD_RESUMABLE_DAYS = env_int("UPLOAD_RESUMABLE_DAYS", 7, minimum=7)
# Origins whose pages upload parts straight to storage (bucket CORS, set by `manage.py configure_storage`).
UPLOAD_CORS_ORIGINS = env_list("UPLOAD_CORS_ORIGINS", [])
UPLOAD_PART_URL_SECONDS = env_int("UPLOAD_PART_URL_SECONDS", 3600, minimum=60, maximum=7 * 24 * 3600)
# A download URL is a bearer credential until it expires; storage checks expiry when a request
# starts, so a long download is not cut off, and a resume asks for a new URL.
DOWNLOAD_URL_SECONDS = env_int("DOWNLOAD_URL_SECONDS", 900, minimum=1, maximum=7 * 24 * 3600)
# How licensees pay for paid datasets: "manual" (an invoice an organization admin marks paid).
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "manual")
# What an invoice tells the licensee to pay by transfer (licensing.revenue.payments.payment_instructions):
# the payee, the bank account (IBAN and BIC, or free text for other systems), the reference the
# transfer quotes ("{invoice}" is replaced by the invoice's id) and an optional note.
PAYMENT_PAYEE_NAME = env_str("PAYMENT_PAYEE_NAME", "")
PAYMENT_IBAN = env_str("PAYMENT_IBAN", "")
PAYMENT_BIC = env_str("PAYMENT_BIC", "")
PAYMENT_BANK_DETAILS = env_str("PAYMENT_BANK_DETAILS", "")
PAYMENT_REFERENCE = env_payment_reference("PAYMENT_REFERENCE", "{invoice}")
PAYMENT_NOTE = env_str("PAYMENT_NOTE", "")
# An open invoice can be paid for this many days; then it expires and the licensee opens a new one.
INVOICE_EXPIRY_DAYS = env_int("INVOICE_EXPIRY_DAYS", 30, minimum=1, maximum=3650)
# API rate limits (DRF throttle rates, "<n>/<second|minute|hour|day>"): per API key, and per
# client IP for requests without a key. Counters live in the default cache.
API_RATE_PER_KEY = env_str("API_RATE_PER_KEY", "1200/minute")
API_RATE_PER_IP = env_str("API_RATE_PER_IP", "600/minute")
# Password guessing on the sign-in page (marketplace/sign_in_limits.py): failed sign-ins allowed per
# account name and per client address within the window, then refused until it ends; and new
# accounts per client address per hour.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
SIGNUPS_PER_IP_PER_HOUR = env_int("SIGNUPS_PER_IP_PER_HOUR", 20, minimum=1)

# Accounts (django-allauth). People sign in with their username or email address. A new
# account gets a verification mail and can sign in at once; ACCOUNT_EMAIL_VERIFICATION=mandatory
# holds sign-in until the address is verified. Password guessing and sign-ups are limited by
# marketplace/accounts/sign_in_limits.py above, so allauth's own limits for those two are off
# (its others, on password-reset and verification mails and second-factor codes, stay).
ACCOUNT_ADAPTER = "marketplace.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
if ACCOUNT_EMAIL_VERIFICATION not in {"optional", "mandatory"}:
    raise ImproperlyConfigured(f"ACCOUNT_EMAIL_VERIFICATION={ACCOUNT_EMAIL_VERIFICATION!r}: use optional or mandatory")
# Whatever can cost money or put data under someone's name (buying, accepting license terms,
# requesting access, creating submissions and API keys) waits for a verified primary address, even
# with verification optional for signing in (marketplace/accounts/verified_email.py). An address a
# single sign-on provider says it verified counts.
REQUIRE_VERIFIED_EMAIL = env_bool("REQUIRE_VERIFIED_EMAIL", True)
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = True  # sessions last SESSION_COOKIE_AGE, as before allauth
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_FORMS = {
    "login": "marketplace.accounts.forms.SignInForm",
    "signup": "marketplace.accounts.forms.SignupForm",
}
ACCOUNT_RATE_LIMITS = {"login_failed": False, "signup": False}
# Second factors: an authenticator app (TOTP, RFC 6238) with recovery codes, and security keys or
# passkeys (WebAuthn). A code from the step before or after the current one is accepted (RFC 6238
# section 5.2 allows one step of clock drift); each code works once.
# Security keys (WebAuthn, through fido2) count as a second factor wherever the app does; their
# list page is ours (templates/mfa/webauthn/), as allauth's needs django.contrib.humanize.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = SITE_NAME
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure origin and a domain name as the relying party's id: https, or
# http://localhost (browsers and fido2 treat it as secure), so the embedded run and the tests open
# the site on localhost; http://127.0.0.1 cannot work (browsers refuse an IP address as the id).
# This switch makes fido2 accept any origin at all, so it stays off unless asked for.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
# Single sign-on with OpenID Connect (allauth's openid_connect provider): on when OIDC_CLIENT_ID is set.
# OIDC_SERVER_URL is the issuer (its /.well-known/openid-configuration is read); accounts are linked
# by an email address the provider says it verified.
OIDC_SERVER_URL = env_str("OIDC_SERVER_URL", "")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET", "")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "Single sign-on")
if OIDC_CLIENT_ID and not OIDC_SERVER_URL:
    raise ImproperlyConfigured("OIDC_SERVER_URL must be set when OIDC_CLIENT_ID is (the provider's issuer URL)")
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": (
            [
                {
                    "provider_id": "oidc",
                    "name": OIDC_PROVIDER_NAME,
                    "client_id": OIDC_CLIENT_ID,
                    "secret": OIDC_CLIENT_SECRET,
                    "settings": {"server_url": OIDC_SERVER_URL},
                }
            ]
            if OIDC_CLIENT_ID
            else []
        ),
    }
}

# Validation of uploaded archives (marketplace/validation.py). The file list is kept in memory
# and stored with the report, so the entry limit also bounds the worker's memory (about 300
# bytes an entry).
VALIDATION_MAX_ENTRIES = env_int("VALIDATION_MAX_ENTRIES", 100_000, minimum=1, maximum=1_000_000)
VALIDATION_MAX_UNCOMPRESSED_BYTES = env_int("VALIDATION_MAX_UNCOMPRESSED_BYTES", 200 * 1024**3, minimum=1)
VALIDATION_MAX_COMPRESSION_RATIO = env_int("VALIDATION_MAX_COMPRESSION_RATIO", 100, minimum=2)
# A pending or running validation that nobody works on for this long is queued again by beat.
# VALIDATION_STUCK_SECONDS, when set, names it in seconds (a running validation writes its
# progress every few seconds, and the sweeper skips one whose lock a live worker holds).
VALIDATION_STUCK_MINUTES = env_int("VALIDATION_STUCK_MINUTES", 15, minimum=1)
VALIDATION_STUCK_SECONDS = env_int("VALIDATION_STUCK_SECONDS", VALIDATION_STUCK_MINUTES * 60, minimum=5)
# Storage or database unreachable: retried after this many seconds, doubling, this many times.
VALIDATION_RETRY_SECONDS = env_int("VALIDATION_RETRY_SECONDS", 30, minimum=1)
VALIDATION_MAX_RETRIES = env_int("VALIDATION_MAX_RETRIES", 5, minimum=0, maximum=20)
# Runs of one validation (retries and re-queues) before it is failed for staff to look at.
VALIDATION_MAX_ATTEMPTS = env_int("VALIDATION_MAX_ATTEMPTS", 12, minimum=1)
# Validation reads a 50 GiB archive in about three minutes here; the limits leave a wide margin
# and stay within the longest task, which sets the Redis visibility timeout.
VALIDATION_TIME_LIMIT_SECONDS = min(CELERY_TASK_MAX_SECONDS, env_int("VALIDATION_TIME_LIMIT_SECONDS", 3600, minimum=60))

# The viewer API queries Parquet exports with DuckDB from local copies (DuckDB reads HTTP only
# through its httpfs extension, which is downloaded at run time): fetched on first use, kept by
# SHA-256, the least recently used evicted beyond this many MiB.
VIEWER_CACHE_DIR = env_str("VIEWER_CACHE_DIR", str(VAR_DIR / "viewer-cache"))
VIEWER_CACHE_MIB = env_int("VIEWER_CACHE_MIB", 2048, minimum=16)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Data Collective <noreply@localhost>")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}


def _origin(url: str | None) -> list[str]:
    if not url:
        return []
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"]


# Content Security Policy (django-csp), in every environment so that the browser tests run under it.
# Pages load only their own scripts; 'wasm-unsafe-eval' lets the upload widget hash with
# WebAssembly (hash-wasm), and connect-src names the storage host the widget PUTs parts to. Inline
# style attributes stay allowed: Uppy's dashboard sets its size with them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        # The viewer's audio players stream presigned GETs of stored archive members.
        "media-src": ["'self'", *_origin(S3_PUBLIC_ENDPOINT_URL)],
        "connect-src": ["'self'", *_origin(S3_PUBLIC_ENDPOINT_URL)],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # A download form redirects to a presigned URL of storage.
        "form-action": ["'self'", *_origin(S3_PUBLIC_ENDPOINT_URL)],
        "frame-ancestors": ["'none'"],
    }
}
