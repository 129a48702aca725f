from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.views import accounts, catalog, pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("datasets/", catalog.catalog, name="catalog"),
    path("datasets/<slug:slug>/", catalog.dataset_detail, name="dataset-detail"),
    path("organizations/<slug:slug>/", catalog.organization_detail, name="organization-detail"),
    path("signup/", accounts.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", accounts.account, name="account"),
]
