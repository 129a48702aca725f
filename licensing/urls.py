from django.urls import path

from licensing import dashboards
from licensing.access import views as access_views
from licensing.consent import views as consent_views
from licensing.contributors import account_views
from licensing.contributors import views as contributor_views
from licensing.keys import views as key_views
from licensing.revenue import views as revenue_views

urlpatterns = [
    path("account/keys/", key_views.api_key_create, name="api-key-create"),
    path("account/keys/<int:key_id>/revoke/", key_views.api_key_revoke, name="api-key-revoke"),
    path("account/licenses/", access_views.grant_list, name="grant-list"),
    path("account/invoices/", dashboards.my_invoices, name="my-invoices"),
    path("account/access-requests/", dashboards.my_access_requests, name="my-access-requests"),
    path("organizations/<slug:slug>/dashboard/", dashboards.organization_dashboard, name="organization-dashboard"),
    path("account/licenses/<int:grant_id>/receipt.json", access_views.grant_receipt, name="grant-receipt"),
    path("account/earnings/", revenue_views.my_earnings, name="earnings"),
    path("account/earnings/statement.csv", revenue_views.my_statement, name="earnings-statement"),
    path("staff/payouts/", revenue_views.payouts, name="payouts"),
    path("staff/payouts/<int:batch_id>/", revenue_views.payout_batch, name="payout-batch"),
    path("staff/payouts/<int:batch_id>/cancel/", revenue_views.payout_batch_cancel, name="payout-batch-cancel"),
    path("staff/invoices/<str:invoice_id>/refund/", revenue_views.invoice_refund, name="invoice-refund"),
    path("invoices/<str:invoice_id>/void/", revenue_views.invoice_void, name="invoice-void"),
    path("datasets/<slug:slug>/accept/", access_views.accept_terms, name="dataset-accept"),
    path("datasets/<slug:slug>/request-access/", access_views.request_access, name="dataset-request-access"),
    path("datasets/<slug:slug>/buy/", access_views.buy, name="dataset-buy"),
    path("datasets/<slug:slug>/download/", access_views.download, name="dataset-download"),
    path(
        "organizations/<slug:slug>/access-requests/",
        access_views.organization_access_requests,
        name="organization-access-requests",
    ),
    path(
        "organizations/<slug:slug>/access-requests/<int:request_id>/<str:action>/",
        access_views.access_decision,
        name="organization-access-decision",
    ),
    path(
        "organizations/<slug:slug>/withdrawals/",
        consent_views.organization_withdrawals,
        name="organization-withdrawals",
    ),
    path("organizations/<slug:slug>/invoices/", revenue_views.invoices, name="organization-invoices"),
    path(
        "organizations/<slug:slug>/invoices/<str:invoice_id>/paid/",
        revenue_views.invoice_paid,
        name="organization-invoice-paid",
    ),
    path("organizations/<slug:slug>/revenue/", revenue_views.organization_revenue, name="organization-revenue"),
    path("organizations/<slug:slug>/downloads/", access_views.download_analytics, name="organization-downloads"),
    path("claim/<str:token>/", contributor_views.claim, name="claim"),
    path("account/contributions/", contributor_views.my_contributions, name="my-contributions"),
    path("account/contributions/withdraw/", contributor_views.withdraw, name="my-contributions-withdraw-all"),
    path(
        "account/contributions/<str:dataset_id>/withdraw/",
        contributor_views.withdraw,
        name="my-contribution-withdraw",
    ),
    path(
        "organizations/<slug:slug>/contributors/",
        contributor_views.organization_contributors,
        name="organization-contributors",
    ),
    path("account/payout-details/", account_views.payout_details, name="payout-details"),
    path("account/data/", account_views.my_data, name="my-data"),
    path("account/data/export.json", account_views.my_data_export, name="my-data-export"),
    path("account/delete/", account_views.delete_account, name="account-delete"),
]
