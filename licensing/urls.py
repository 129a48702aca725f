from django.urls import path

from licensing import views

urlpatterns = [
    path("account/keys/", views.api_key_create, name="api-key-create"),
    path("account/keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
