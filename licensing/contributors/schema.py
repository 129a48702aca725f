"""How the OpenAPI schema describes the contributor's API (licensing.contributors.api): shapes of
the answers the views build as plain dicts. These serializers only describe."""

from __future__ import annotations

from rest_framework import serializers

from licensing.schema import RereleaseShape, Shape, _null


class PermissionsShape(Shape):
    commercialUse = serializers.BooleanField()  # noqa: N815 (the API's camelCase)
    aiTraining = serializers.BooleanField()  # noqa: N815
    redistribution = serializers.BooleanField()
    derivatives = serializers.BooleanField()


class ConsentGivenShape(Shape):
    text = serializers.CharField(help_text="The exact consent text you agreed to.")
    sha256 = serializers.CharField()
    givenAt = serializers.DateTimeField()  # noqa: N815
    researchOnly = serializers.BooleanField()  # noqa: N815
    scope = serializers.CharField(allow_blank=True)
    collectionStart = serializers.DateField()  # noqa: N815
    collectionEnd = serializers.DateField()  # noqa: N815
    withdrawalProcess = serializers.CharField()  # noqa: N815
    permissions = PermissionsShape()


class LicenseSoldShape(Shape):
    id = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    permissions = PermissionsShape()


class HoldingVersionShape(Shape):
    number = serializers.IntegerField()
    publishedAt = serializers.DateTimeField()  # noqa: N815
    sha256 = serializers.CharField()
    withdrawn = serializers.BooleanField(help_text="Serves no new downloads: consent was withdrawn for some records.")
    replacementVersion = _null(serializers.IntegerField)  # noqa: N815


class UsageShape(Shape):
    month = serializers.CharField(help_text="YYYY-MM")
    licensees = serializers.IntegerField(help_text="Licensees who downloaded a version holding your records.")
    downloads = serializers.IntegerField()


class MyWithdrawalShape(Shape):
    id = serializers.IntegerField()
    withdrawnAt = serializers.DateTimeField()  # noqa: N815
    version = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)
    recordIds = serializers.ListField(child=serializers.CharField())  # noqa: N815
    rerelease = RereleaseShape(allow_null=True)
    licenseesNotified = serializers.IntegerField()  # noqa: N815
    licenseesAcknowledged = serializers.IntegerField()  # noqa: N815


class ContributionShape(Shape):
    organization = serializers.DictField(child=serializers.CharField())
    contributorId = serializers.CharField()  # noqa: N815
    datasetId = serializers.CharField()  # noqa: N815
    datasetName = serializers.CharField()  # noqa: N815
    datasetUrl = serializers.CharField()  # noqa: N815
    versions = HoldingVersionShape(many=True)
    consent = ConsentGivenShape()
    license = LicenseSoldShape()
    usage = UsageShape(many=True)
    withdrawals = MyWithdrawalShape(many=True)


class ClaimShape(Shape):
    organization = serializers.DictField(child=serializers.CharField())
    contributorId = _null(serializers.CharField)  # noqa: N815
    payeeEmail = _null(serializers.CharField)  # noqa: N815
    claimedAt = serializers.DateTimeField()  # noqa: N815


class ContributionsShape(Shape):
    claims = ClaimShape(many=True)
    items = ContributionShape(many=True)
    earnings = serializers.CharField(help_text="Your earnings, with statements: GET this URL.")
    payoutDetailsSet = serializers.BooleanField()  # noqa: N815


class SelfWithdrawalInputShape(Shape):
    datasetId = serializers.CharField(required=False, help_text="Leave out to withdraw from every dataset.")  # noqa: N815
    reason = serializers.CharField(required=False, max_length=2000)


class SelfWithdrawalListShape(Shape):
    items = MyWithdrawalShape(many=True)


class ClaimAcceptInputShape(Shape):
    token = serializers.CharField(help_text="The token at the end of the claim link.")


class ClaimLinkInputShape(Shape):
    contributorId = serializers.CharField(required=False, max_length=128)  # noqa: N815
    payeeEmail = serializers.EmailField(required=False)  # noqa: N815
    sendTo = serializers.EmailField(required=False)  # noqa: N815


class ClaimLinkShape(Shape):
    id = serializers.IntegerField()
    link = serializers.CharField(help_text="Shown once: hand it over, or it was emailed to sendTo.")
    expiresAt = serializers.DateTimeField()  # noqa: N815
