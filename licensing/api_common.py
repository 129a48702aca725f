"""What the licensing API views share: the JSON body's parts, the signed-in caller, and the dataset
a /api/v1/datasets/{id}/... view is about. Refusals the services raise are answered by the API's
one exception handler (config.api_errors)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from config.refusals import Gone
from licensing.keys.authentication import HasScope
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, User
from marketplace.publishing import takedown_sentence


def request_body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError(_("The body must be a JSON object."))
    return request.data


def string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise exceptions.ValidationError({name: ["must be a non-empty string"]})
    return value


def request_user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise exceptions.NotAuthenticated()
    return request.user


class DatasetScopedApi(APIView):
    """A dataset the caller may see (published; private ones only for their members)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scope = "download"

    def dataset(self, request: Request, dataset_id: str) -> Dataset:
        found = (
            visible_datasets(user=request.user)
            .select_related("organization", "current_version__license")
            .filter(id=dataset_id)
            .first()
        )
        if found is None:
            removed = Dataset.objects.filter(id=dataset_id, status=Dataset.Status.REMOVED).first()
            # A removed dataset says so (410, with the reason), unless it was private: then it stays unknown.
            if removed is not None and removed.visibility != Dataset.Visibility.PRIVATE:
                raise Gone(takedown_sentence(_("Dataset '%(slug)s'") % {"slug": removed.slug}, removed.removal_reason))
            raise exceptions.NotFound(_("No dataset with id '%(dataset_id)s'.") % {"dataset_id": dataset_id})
        return found

    def page_url(self, request: Request, dataset: Dataset) -> str:
        return request.build_absolute_uri(reverse("dataset-detail", args=[dataset.slug]))
