import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

if settings.REFUSE_OPEN_STORAGE_ON_START:
    from marketplace.checks import refuse_an_open_gateway

    refuse_an_open_gateway()
