"""allauth's pages under /accounts/ (email, password, second factors, single sign-on).

Its own sign-in and sign-up paths lead to our views, so the limits on guessing hold on every path.
"""

from django.urls import include, path

from marketplace.accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view()),
    path("signup/", views.SignUpView.as_view()),
    path("", include("allauth.urls")),
]
