from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.accounts import views as accounts
from marketplace.catalog import dataset_page, feed_views, version_changes, views
from marketplace.catalog.sitemaps import SITEMAPS
from marketplace.notifications import views as notification_views
from marketplace.organizations import views as organizations
from marketplace.submissions import views as submissions
from marketplace.viewer import pages as viewer
from marketplace.views import pages, takedowns

urlpatterns = [
    path("", pages.home, name="home"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/read/", notification_views.notifications_mark_all_read, name="notifications-read"),
    path("datasets/", views.catalog, name="catalog"),
    path("staff/takedowns/", takedowns.takedowns, name="takedowns"),
    path("datasets/<slug:slug>/", dataset_page.dataset_detail, name="dataset-detail"),
    path("datasets/<slug:slug>/viewer/", viewer.dataset_viewer, name="dataset-viewer"),
    path(
        "datasets/<slug:slug>/versions/<int:number>/changes/<int:since>/",
        version_changes.version_changes,
        name="dataset-version-changes",
    ),
    path("datasets/<slug:slug>/new-version/", submissions.version_create, name="dataset-new-version"),
    path("organizations/new/", organizations.organization_create, name="organization-create"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization-detail"),
    path("organizations/<slug:slug>/members/", organizations.organization_members, name="organization-members"),
    path(
        "organizations/<slug:slug>/members/<int:membership_id>/remove/",
        organizations.member_remove,
        name="organization-member-remove",
    ),
    path(
        "organizations/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        organizations.invitation_revoke,
        name="invitation-revoke",
    ),
    path("organizations/<slug:slug>/leave/", organizations.organization_leave, name="organization-leave"),
    path("organizations/<slug:slug>/approve/", organizations.organization_approve, name="organization-approve"),
    path("invitations/<str:token>/", organizations.invitation_accept, name="invitation-accept"),
    path("submissions/", submissions.submission_list, name="submission-list"),
    path("submissions/new/", submissions.submission_create, name="submission-create"),
    path("submissions/<str:submission_id>/", submissions.submission_edit, name="submission-edit"),
    path("submissions/<str:submission_id>/consent/", submissions.submission_consent, name="submission-consent"),
    path(
        "submissions/<str:submission_id>/consent/records/",
        submissions.submission_consent_records,
        name="submission-consent-records",
    ),
    path(
        "submissions/<str:submission_id>/contributors/",
        submissions.submission_contributors,
        name="submission-contributors",
    ),
    path(
        "submissions/<str:submission_id>/validation/",
        submissions.submission_validation,
        name="submission-validation",
    ),
    path("submissions/<str:submission_id>/parents/", submissions.submission_parents, name="submission-parents"),
    path("submissions/<str:submission_id>/submit/", submissions.submission_submit, name="submission-submit"),
    path("submissions/<str:submission_id>/delete/", submissions.submission_delete, name="submission-delete"),
    path("review/", submissions.review_queue, name="review-queue"),
    path("review/<str:submission_id>/", submissions.review, name="review"),
    path("signup/", accounts.SignUpView.as_view(), name="signup"),
    path("login/", accounts.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", accounts.account, name="account"),
    # Catalog feeds (DCAT-AP 3, paged), the sitemap and robots.txt: for harvesters, federated
    # instances and search engines.
    path("catalog", feed_views.catalog_negotiate, name="catalog-feed"),
    path("catalog.ttl", feed_views.catalog_turtle, name="catalog-turtle"),
    path("catalog.jsonld", feed_views.catalog_jsonld, name="catalog-jsonld"),
    path(
        "sitemap.xml",
        feed_views.sitemap_index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path("sitemap-<section>.xml", feed_views.sitemap_section, {"sitemaps": SITEMAPS}, name="sitemap-section"),
    path("robots.txt", feed_views.robots_txt, name="robots-txt"),
]
