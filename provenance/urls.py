"""Pages of the provenance app: moving an organization between instances (provenance/move_views.py),
federation and witnessing (provenance/federation/views.py)."""

from django.urls import path

from provenance import move_views
from provenance.federation import views as federation

urlpatterns = [
    path("staff/organization-imports/", move_views.organization_imports, name="organization-imports"),
    path("organizations/<slug:slug>/move/", move_views.organization_move, name="organization-move"),
    path("moved-grants/", move_views.moved_grants, name="moved-grants"),
    # Federation and witnessing (issue 20, parts 4 and 5): staff pages.
    path("federation/peers/", federation.peers, name="federation-peers"),
    path("federation/peers/<int:peer_id>/", federation.peer_action, name="federation-peer-action"),
    path("federation/alarms/", federation.alarms, name="federation-alarms"),
]
