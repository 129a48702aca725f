from django.urls import include, path

from marketplace.api import v1
from marketplace.submissions import api as submissions
from marketplace.viewer import api as viewer

urlpatterns = [
    path("", include("provenance.api_urls")),  # keys, manifests, transparency log, Croissant
    path("datasets", v1.DatasetListApi.as_view(), name="api-dataset-list"),
    path("datasets/<str:id>", v1.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/<str:id>/versions", v1.DatasetVersionListApi.as_view(), name="api-dataset-versions"),
    path("datasets/<str:id>/versions/<int:number>/viewer/splits", viewer.SplitsApi.as_view(), name="api-viewer-splits"),
    path("datasets/<str:id>/versions/<int:number>/viewer/rows", viewer.RowsApi.as_view(), name="api-viewer-rows"),
    path("datasets/<str:id>/versions/<int:number>/viewer/search", viewer.SearchApi.as_view(), name="api-viewer-search"),
    path("datasets/<str:id>/versions/<int:number>/viewer/filter", viewer.FilterApi.as_view(), name="api-viewer-filter"),
    path(
        "datasets/<str:id>/versions/<int:number>/viewer/statistics",
        viewer.StatisticsApi.as_view(),
        name="api-viewer-statistics",
    ),
    path(
        "datasets/<str:id>/versions/<int:number>/viewer/parquet", viewer.ParquetApi.as_view(), name="api-viewer-parquet"
    ),
    path(
        "datasets/<str:id>/versions/<int:number>/viewer/parquet/<int:index>",
        viewer.ParquetFileApi.as_view(),
        name="api-viewer-parquet-file",
    ),
    path("organizations", v1.OrganizationListApi.as_view(), name="api-organization-list"),
    path("organizations/<slug:slug>", v1.OrganizationDetailApi.as_view(), name="api-organization-detail"),
    path("licenses", v1.LicenseListApi.as_view(), name="api-license-list"),
    path("licenses/<int:pk>", v1.LicenseDetailApi.as_view(), name="api-license-detail"),
    path("uploads/<str:file_upload_id>", submissions.UploadAbortApi.as_view(), name="api-upload"),
    path("uploads/<str:file_upload_id>/parts", submissions.StoredPartsApi.as_view(), name="api-upload-parts"),
    path("submissions/<str:submission_id>", submissions.SubmissionDetailApi.as_view(), name="api-submission"),
    path(
        "submissions/<str:submission_id>/validation",
        submissions.SubmissionValidationApi.as_view(),
        name="api-submission-validation",
    ),
    path("submissions/<str:submission_id>/consent", submissions.SubmissionConsentApi.as_view(), name="api-consent"),
    path(
        "submissions/<str:submission_id>/consent/records",
        submissions.ConsentRecordsApi.as_view(),
        name="api-consent-records",
    ),
    path(
        "submissions/<str:submission_id>/contributors",
        submissions.RevenueSplitApi.as_view(),
        name="api-revenue-split",
    ),
    path("submissions/<str:submission_id>/parents", submissions.SubmissionParentsApi.as_view(), name="api-parents"),
    path(
        "submissions/<str:submission_id>/record-id-column",
        submissions.SubmissionRecordIdColumnApi.as_view(),
        name="api-submission-record-id-column",
    ),
    path(
        "submissions/<str:submission_id>/changelog",
        submissions.SubmissionChangelogApi.as_view(),
        name="api-submission-changelog",
    ),
]
