from django.urls import path

from licensing.access import api as access_api
from licensing.consent import api as consent_api
from licensing.contributors import account_api
from licensing.contributors import api as contributors_api
from licensing.keys import api as keys_api
from licensing.revenue import api as revenue_api

urlpatterns = [
    path("me", keys_api.MeApi.as_view(), name="api-me"),
    path("me/earnings", revenue_api.MyEarningsApi.as_view(), name="api-me-earnings"),
    path("me/invoices", revenue_api.MyInvoicesApi.as_view(), name="api-me-invoices"),
    path("me/access-requests", access_api.MyAccessRequestsApi.as_view(), name="api-me-access-requests"),
    path("grants", access_api.GrantListApi.as_view(), name="api-grants"),
    path("grants/<int:grant_id>", access_api.GrantReceiptApi.as_view(), name="api-grant-receipt"),
    path("datasets/<str:dataset_id>/terms", access_api.TermsApi.as_view(), name="api-dataset-terms"),
    path("datasets/<str:dataset_id>/grants", access_api.GrantCreateApi.as_view(), name="api-dataset-grants"),
    path("datasets/<str:dataset_id>/purchases", revenue_api.PurchaseApi.as_view(), name="api-dataset-purchases"),
    path("invoices/<str:invoice_id>/payment", revenue_api.InvoicePaymentApi.as_view(), name="api-invoice-payment"),
    path("invoices/<str:invoice_id>/refund", revenue_api.InvoiceRefundApi.as_view(), name="api-invoice-refund"),
    path("invoices/<str:invoice_id>/void", revenue_api.InvoiceVoidApi.as_view(), name="api-invoice-void"),
    path(
        "payouts/<int:batch_id>/cancellation",
        revenue_api.PayoutCancellationApi.as_view(),
        name="api-payout-cancellation",
    ),
    path(
        "datasets/<str:dataset_id>/access-requests",
        access_api.AccessRequestListApi.as_view(),
        name="api-access-requests",
    ),
    path(
        "access-requests/<int:request_id>/<str:action>",
        access_api.AccessDecisionApi.as_view(),
        name="api-access-decision",
    ),
    path(
        "datasets/<str:dataset_id>/versions/<int:number>/files",
        access_api.VersionFilesApi.as_view(),
        name="api-version-files",
    ),
    path(
        "datasets/<str:dataset_id>/versions/<int:number>/files/<str:kind>/download",
        access_api.VersionFileDownloadApi.as_view(),
        name="api-version-file-download",
    ),
    path(
        "datasets/<str:dataset_id>/versions/<int:number>/delta/<int:to>",
        access_api.VersionDeltaApi.as_view(),
        name="api-version-delta",
    ),
    path("datasets/<str:dataset_id>/withdrawals", consent_api.WithdrawalApi.as_view(), name="api-dataset-withdrawals"),
    path("datasets/<str:dataset_id>/removals", consent_api.RemovalFeedApi.as_view(), name="api-dataset-removals"),
    path(
        "datasets/<str:dataset_id>/removals/<int:withdrawal_id>/acknowledgement",
        consent_api.AcknowledgementApi.as_view(),
        name="api-removal-acknowledgement",
    ),
    path(
        "datasets/<str:dataset_id>/removals/<int:withdrawal_id>/acknowledgements",
        consent_api.AcknowledgementListApi.as_view(),
        name="api-removal-acknowledgements",
    ),
    path("datasets/<str:dataset_id>/rereleases", consent_api.RereleaseListApi.as_view(), name="api-dataset-rereleases"),
    path("me/removal-notices", consent_api.MyNoticesApi.as_view(), name="api-me-removal-notices"),
    path("me/contributions", contributors_api.MyContributionsApi.as_view(), name="api-me-contributions"),
    path(
        "me/contributions/withdrawals",
        contributors_api.MyWithdrawalsApi.as_view(),
        name="api-me-contribution-withdrawals",
    ),
    path("claims/accept", contributors_api.ClaimAcceptApi.as_view(), name="api-claim-accept"),
    path(
        "organizations/<slug:slug>/claims",
        contributors_api.OrganizationClaimsApi.as_view(),
        name="api-organization-claims",
    ),
    path("me/payout-details", account_api.MyPayoutDetailsApi.as_view(), name="api-me-payout-details"),
    path("me/export", account_api.MyDataExportApi.as_view(), name="api-me-export"),
]
