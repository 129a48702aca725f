from django.urls import path

from provenance.federation import views as federation

urlpatterns = [
    # Federation and witnessing (issue 20, parts 4 and 5): staff pages.
    path("federation/peers/", federation.peers, name="federation-peers"),
    path("federation/peers/<int:peer_id>/", federation.peer_action, name="federation-peer-action"),
    path("federation/alarms/", federation.alarms, name="federation-alarms"),
]
