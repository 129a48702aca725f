from django.urls import path

from licensing import api

urlpatterns = [
    path("me", api.MeApi.as_view(), name="api-me"),
]
