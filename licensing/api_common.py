"""What the licensing API views share: Django's exceptions answered as the API's errors, the
JSON body's parts, the signed-in caller, and the dataset a /api/v1/datasets/{id}/... view is about."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from licensing.access.downloads import taken_down
from licensing.keys.authentication import HasScope
from marketplace.api.mdc import Gone
from marketplace.models import Dataset, User
from marketplace.selectors import visible_datasets


def api_error(exc: Exception) -> exceptions.APIException:
    """Our services raise Django's exceptions; the API answers them as {"error", "message"}."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError(" ".join(exc.messages))
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "You may not do this.")
    if isinstance(exc, ObjectDoesNotExist):
        return exceptions.NotFound(str(exc))
    raise exc


def request_body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError("The body must be a JSON object.")
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
                raise Gone(taken_down(f"Dataset '{removed.slug}'", removed.removal_reason))
            raise exceptions.NotFound(f"No dataset with id '{dataset_id}'.")
        return found

    def page_url(self, request: Request, dataset: Dataset) -> str:
        return request.build_absolute_uri(reverse("dataset-detail", args=[dataset.slug]))
