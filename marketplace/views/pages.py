"""The start page: a search box and a few ways into the catalog."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace.catalog import listed_datasets
from marketplace.models import Dataset
from marketplace.views.catalog import TASK_LABELS, cards

FEATURED = 3
NEWEST = 8


def home(request: HttpRequest) -> HttpResponse:
    """Three fixed-size selects and one GROUP BY: the query count does not grow with the catalog."""
    listed = listed_datasets().select_related("organization", "license")
    # "Featured" is not an editorial pick: it is the newest datasets anyone may use for free,
    # and the page labels it so.
    free = listed.filter(visibility=Dataset.Visibility.PUBLIC, is_paid=False).order_by("-published_at", "-id")
    newest = listed.order_by("-published_at", "-id")
    by_task = listed_datasets().exclude(task="").values("task").annotate(count=Count("id")).order_by("-count", "task")
    return render(
        request,
        "home.html",
        {
            "featured": cards(list(free[:FEATURED])),
            "newest": cards(list(newest[:NEWEST])),
            "tasks": [(row["task"], TASK_LABELS.get(row["task"], row["task"]), row["count"]) for row in by_task],
        },
    )
