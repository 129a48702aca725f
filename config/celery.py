"""The Celery app. Tasks are discovered in each app's tasks.py; settings use the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("datacollective")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_open_storage(**kwargs: Any) -> None:
    from django.conf import settings

    if settings.REFUSE_OPEN_STORAGE_ON_START:
        from django.core.exceptions import ImproperlyConfigured

        from marketplace.checks import refuse_an_open_gateway

        try:
            refuse_an_open_gateway()
        except ImproperlyConfigured as exc:  # Celery logs and ignores a receiver's Exception
            raise SystemExit(f"ImproperlyConfigured: {exc}") from exc
