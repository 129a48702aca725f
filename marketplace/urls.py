from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.views import accounts, catalog, organizations, pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("datasets/", catalog.catalog, name="catalog"),
    path("datasets/<slug:slug>/", catalog.dataset_detail, name="dataset-detail"),
    path("organizations/new/", organizations.organization_create, name="organization-create"),
    path("organizations/<slug:slug>/", catalog.organization_detail, name="organization-detail"),
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
    path("signup/", accounts.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", accounts.account, name="account"),
]
