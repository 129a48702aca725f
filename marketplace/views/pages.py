"""The start page: a search box and a few ways into the catalog."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplace.catalog.search import listed_datasets, task_counts
from marketplace.catalog.views import TASK_LABELS, cards
from marketplace.models import Dataset

FEATURED = 3
NEWEST = 8


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Two fixed-size selects and the cached task counts: the query count does not grow with the catalog."""
    listed = listed_datasets().select_related("organization", "license")
    # "Featured" is not an editorial pick: it is the newest datasets anyone may use for free,
    # and the page labels it so.
    free = listed.filter(visibility=Dataset.Visibility.PUBLIC, is_paid=False).order_by("-published_at", "-id")
    newest = listed.order_by("-published_at", "-id")
    by_task = task_counts()
    return render(
        request,
        "home.html",
        {
            "featured": cards(list(free[:FEATURED])),
            "newest": cards(list(newest[:NEWEST])),
            "tasks": [(task, TASK_LABELS.get(task, task), count) for task, count in by_task],
        },
    )
