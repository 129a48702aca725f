"""Production: TLS everywhere, a real secret, no debug. Refuses to start on a default secret, and (web and
worker) on a storage gateway that answers anonymous requests."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int
from config.settings.base import *  # noqa: F403
from config.settings.base import INSECURE_SECRET_KEY, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, SECRET_KEY

if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set to a random value of 50+ characters")

if not S3_ACCESS_KEY_ID or not S3_SECRET_ACCESS_KEY:
    raise ImproperlyConfigured(
        "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or _FILE) must be set: production never uses a storage "
        "gateway that accepts anonymous requests (`manage.py check --deploy` also asks the gateway as a stranger)"
    )

DEBUG = False
REFUSE_OPEN_STORAGE_ON_START = env_bool("REFUSE_OPEN_STORAGE_ON_START", True)
OUTBOUND_PRIVATE_ADDRESSES = env_bool("OUTBOUND_PRIVATE_ADDRESSES", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The preload directive only consents to the browsers' list; a domain joins it when its owner submits it.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
