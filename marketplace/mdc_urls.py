"""Routes of the MDC SDK contract: no trailing slashes, ``<str:>`` ids (slugs contain dots),
``datasets/filters`` before ``datasets/<id>``."""

from django.urls import path

from marketplace.api import mdc
from marketplace.submissions import api as submissions

urlpatterns = [
    path("health", mdc.HealthApi.as_view(), name="mdc-health"),
    path("datasets", mdc.DatasetListApi.as_view(), name="mdc-dataset-list"),
    path("datasets/filters", mdc.DatasetFiltersApi.as_view(), name="mdc-dataset-filters"),
    path("datasets/<str:id_or_slug>", mdc.DatasetDetailApi.as_view(), name="mdc-dataset-detail"),
    path("datasets/<str:id_or_slug>/metadata", mdc.DatasetMetadataApi.as_view(), name="mdc-dataset-metadata"),
    path("datasets/<str:id_or_slug>/download", mdc.DatasetDownloadApi.as_view(), name="mdc-dataset-download"),
    path("datasets/<str:id_or_slug>/sample-download", mdc.SampleDownloadApi.as_view(), name="mdc-sample-download"),
    path("submissions", submissions.SubmissionCreateApi.as_view(), name="mdc-submission-create"),
    path("submissions/<str:submission_id>", submissions.SubmissionApi.as_view(), name="mdc-submission"),
    path("uploads", submissions.UploadStartApi.as_view(), name="mdc-upload-start"),
    path("uploads/<str:file_upload_id>", submissions.UploadCompleteApi.as_view(), name="mdc-upload-complete"),
    path(
        "uploads/<str:file_upload_id>/parts/<int:part_number>",
        submissions.UploadPartApi.as_view(),
        name="mdc-upload-part",
    ),
    path("submissions/<str:submission_id>/sample", submissions.SampleStartApi.as_view(), name="mdc-sample-start"),
    path(
        "submissions/<str:submission_id>/sample/<str:file_upload_id>",
        submissions.SampleCompleteApi.as_view(),
        name="mdc-sample-complete",
    ),
    path(
        "submissions/<str:submission_id>/sample/<str:file_upload_id>/parts/<int:part_number>",
        submissions.SamplePartApi.as_view(),
        name="mdc-sample-part",
    ),
]
