from django.urls import path

from licensing import api

urlpatterns = [
    path("me", api.MeApi.as_view(), name="api-me"),
    path("me/earnings", api.MyEarningsApi.as_view(), name="api-me-earnings"),
    path("grants", api.GrantListApi.as_view(), name="api-grants"),
    path("grants/<int:grant_id>", api.GrantReceiptApi.as_view(), name="api-grant-receipt"),
    path("datasets/<str:dataset_id>/terms", api.TermsApi.as_view(), name="api-dataset-terms"),
    path("datasets/<str:dataset_id>/grants", api.GrantCreateApi.as_view(), name="api-dataset-grants"),
    path("datasets/<str:dataset_id>/purchases", api.PurchaseApi.as_view(), name="api-dataset-purchases"),
    path("invoices/<str:invoice_id>/payment", api.InvoicePaymentApi.as_view(), name="api-invoice-payment"),
    path("datasets/<str:dataset_id>/access-requests", api.AccessRequestListApi.as_view(), name="api-access-requests"),
    path(
        "access-requests/<int:request_id>/<str:action>",
        api.AccessDecisionApi.as_view(),
        name="api-access-decision",
    ),
    path(
        "datasets/<str:dataset_id>/versions/<int:number>/files", api.VersionFilesApi.as_view(), name="api-version-files"
    ),
    path(
        "datasets/<str:dataset_id>/versions/<int:number>/files/<str:kind>/download",
        api.VersionFileDownloadApi.as_view(),
        name="api-version-file-download",
    ),
    path("datasets/<str:dataset_id>/withdrawals", api.WithdrawalApi.as_view(), name="api-dataset-withdrawals"),
    path("datasets/<str:dataset_id>/removals", api.RemovalFeedApi.as_view(), name="api-dataset-removals"),
]
