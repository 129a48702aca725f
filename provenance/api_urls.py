from django.urls import path

from provenance import api, moves_api
from provenance.federation import api as federation

urlpatterns = [
    path("provenance/keys", api.PublicKeysApi.as_view(), name="api-provenance-keys"),
    path("provenance/keys/<str:key_id>.pem", api.PublicKeyPemApi.as_view(), name="api-provenance-key-pem"),
    path("provenance/log/entries", api.LogEntriesApi.as_view(), name="api-log-entries"),
    path(
        "provenance/log/entries/<int:index>/inclusion-proof", api.InclusionProofApi.as_view(), name="api-log-inclusion"
    ),
    path("provenance/log/consistency-proof", api.ConsistencyProofApi.as_view(), name="api-log-consistency"),
    path("provenance/log/tree-head", api.TreeHeadApi.as_view(), name="api-log-tree-head"),
    path("datasets/<str:id>/versions/<int:number>/manifest", api.ManifestApi.as_view(), name="api-version-manifest"),
    path(
        "datasets/<str:id>/versions/<int:number>/inclusion-proof",
        api.VersionInclusionProofApi.as_view(),
        name="api-version-inclusion-proof",
    ),
    path("datasets/<str:id>/versions/<int:number>/croissant", api.CroissantApi.as_view(), name="api-version-croissant"),
    path(
        "datasets/<str:id>/versions/<int:number>/diff/<int:to>", api.VersionDiffApi.as_view(), name="api-version-diff"
    ),
    path("organizations/<slug:slug>/export", api.OrganizationExportApi.as_view(), name="api-organization-export"),
    # Moving an organization between instances (provenance/moves_api.py).
    path("organization-imports", moves_api.OrganizationImportsApi.as_view(), name="api-organization-imports"),
    path("organization-imports/lookup", moves_api.ImportLookupApi.as_view(), name="api-organization-import-lookup"),
    path("organization-imports/<int:id>", moves_api.OrganizationImportApi.as_view(), name="api-organization-import"),
    path("organizations/<slug:slug>/moved", moves_api.OrganizationMoveApi.as_view(), name="api-organization-moved"),
    # Federation and witnessing (issue 20, parts 4 and 5)
    path("federation/peers", federation.PeerListApi.as_view(), name="api-federation-peers"),
    path("federation/peers/<int:peer_id>", federation.PeerDetailApi.as_view(), name="api-federation-peer"),
    path("federation/peers/<int:peer_id>/sync", federation.PeerSyncApi.as_view(), name="api-federation-peer-sync"),
    path("federation/datasets", federation.RemoteDatasetListApi.as_view(), name="api-federation-datasets"),
    path("provenance/witness/cosignatures", federation.CosignatureListApi.as_view(), name="api-witness-cosignatures"),
    path("provenance/alarms", federation.AlarmListApi.as_view(), name="api-provenance-alarms"),
]
