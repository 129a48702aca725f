"""Routes of the MDC SDK contract: no trailing slashes, ``<str:>`` ids (slugs contain dots),
``datasets/filters`` before ``datasets/<id>``."""

from django.urls import path

from marketplace.api import mdc, submissions

urlpatterns = [
    path("datasets", mdc.DatasetListApi.as_view(), name="mdc-dataset-list"),
    path("datasets/filters", mdc.DatasetFiltersApi.as_view(), name="mdc-dataset-filters"),
    path("datasets/<str:id_or_slug>", mdc.DatasetDetailApi.as_view(), name="mdc-dataset-detail"),
    path("submissions", submissions.SubmissionCreateApi.as_view(), name="mdc-submission-create"),
    path("submissions/<str:submission_id>", submissions.SubmissionApi.as_view(), name="mdc-submission"),
]
