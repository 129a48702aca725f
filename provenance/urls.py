"""Pages of the provenance app: moving an organization between instances (provenance/move_views.py)."""

from django.urls import path

from provenance import move_views

urlpatterns = [
    path("staff/organization-imports/", move_views.organization_imports, name="organization-imports"),
    path("organizations/<slug:slug>/move/", move_views.organization_move, name="organization-move"),
    path("moved-grants/", move_views.moved_grants, name="moved-grants"),
]
