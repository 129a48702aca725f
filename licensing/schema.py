"""How the OpenAPI schema describes the licensing API (the api.py of licensing's access, consent,
keys and revenue): our API keys as an HTTP bearer scheme (and as Basic's password where a
plain client fetches a file), and the shapes of the answers, which the
views build as plain dicts. These serializers only describe."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from config.api_schema import ErrorShape

Shape = serializers.Serializer


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "licensing.keys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from your account page: `Authorization: Bearer dck_…`.",
        }


class ApiKeyBasicScheme(OpenApiAuthenticationExtension):
    target_class = "licensing.keys.authentication.ApiKeyBasicAuthentication"
    name = "apiKeyBasic"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "The same API key as the password of HTTP Basic (any user name), for clients that "
            "send nothing else: mlcroissant's CROISSANT_BASIC_AUTH_USERNAME and CROISSANT_BASIC_AUTH_PASSWORD.",
        }


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorShape) for code in codes}


def _null(field: type[serializers.Field[Any, Any, Any, Any]], **kwargs: Any) -> Any:
    return field(allow_null=True, **kwargs)


# --- Earnings ------------------------------------------------------------------------------------


class EarningsTotalShape(Shape):
    currency = serializers.CharField()
    earnedCents = serializers.IntegerField()  # noqa: N815 (the API's camelCase)
    refundedCents = serializers.IntegerField()  # noqa: N815
    paidOutCents = serializers.IntegerField()  # noqa: N815
    balanceCents = serializers.IntegerField()  # noqa: N815


class EarningsPeriodShape(Shape):
    period = serializers.CharField(help_text="YYYY-MM")
    netCents = serializers.IntegerField()  # noqa: N815


class DatasetEarningsShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    name = serializers.CharField()
    currency = serializers.CharField()
    payments = serializers.IntegerField()
    earnedCents = serializers.IntegerField()  # noqa: N815
    refundedCents = serializers.IntegerField()  # noqa: N815
    netCents = serializers.IntegerField()  # noqa: N815
    periods = EarningsPeriodShape(many=True)


class PayoutShape(Shape):
    batchId = _null(serializers.IntegerField)  # noqa: N815
    amountCents = serializers.IntegerField()  # noqa: N815
    currency = serializers.CharField()
    status = serializers.CharField()
    createdAt = serializers.DateTimeField()  # noqa: N815
    paidAt = _null(serializers.DateTimeField)  # noqa: N815
    reference = serializers.CharField(allow_blank=True)


class EarningsShape(Shape):
    totals = EarningsTotalShape(many=True)
    datasets = DatasetEarningsShape(many=True)
    payouts = PayoutShape(many=True)


# --- Terms and grants ----------------------------------------------------------------------------


class LicenseRefShape(Shape):
    spdxId = _null(serializers.CharField)  # noqa: N815
    name = serializers.CharField()
    textSha256 = serializers.CharField()  # noqa: N815


class RestrictionShape(Shape):
    # The serializer metaclass takes declared fields off the class, so `label` hides nothing.
    label = serializers.CharField()  # type: ignore[assignment]
    text = serializers.CharField()


class TermsShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    version = serializers.IntegerField()
    termsSha256 = serializers.CharField()  # noqa: N815
    termsText = serializers.CharField()  # noqa: N815
    license = LicenseRefShape()
    restrictions = RestrictionShape(many=True)


class AcceptTermsShape(Shape):
    termsSha256 = serializers.CharField()  # noqa: N815
    organization = serializers.CharField(required=False, help_text="Accept for this organization (its slug).")


class TermsChangedShape(Shape):
    error = serializers.CharField()
    message = serializers.CharField()
    currentTermsSha256 = serializers.CharField()  # noqa: N815
    terms = TermsShape()


class ReceiptShape(Shape):
    """The license receipt (licensing.grants.receipt): ``sha256(termsText) == termsSha256``."""

    type = serializers.CharField()
    grantId = serializers.IntegerField()  # noqa: N815
    acceptedAt = serializers.DateTimeField()  # noqa: N815
    source = serializers.CharField()  # type: ignore[assignment]  # (a declared field, as `label` above)
    licensee = inline_serializer(
        "Licensee", {"username": serializers.CharField(), "organization": _null(serializers.CharField)}
    )
    dataset = inline_serializer(
        "ReceiptDataset",
        {"id": serializers.CharField(), "slug": serializers.CharField(), "name": serializers.CharField()},
    )
    version = inline_serializer(
        "ReceiptVersion",
        {"number": serializers.IntegerField(), "filename": serializers.CharField(), "sha256": serializers.CharField()},
    )
    license = LicenseRefShape()
    termsSha256 = serializers.CharField()  # noqa: N815
    termsText = serializers.CharField()  # noqa: N815
    userAgent = serializers.CharField(allow_blank=True)  # noqa: N815


class ReceiptListShape(Shape):
    items = ReceiptShape(many=True)


# --- Purchases and access requests ---------------------------------------------------------------


class OrganizationChoiceShape(Shape):
    organization = serializers.CharField(required=False, help_text="Buy for this organization (its slug).")


class InvoiceShape(Shape):
    invoiceId = serializers.CharField()  # noqa: N815
    amountCents = serializers.IntegerField()  # noqa: N815
    basePriceCents = serializers.IntegerField()  # noqa: N815
    platformFeeCents = serializers.IntegerField()  # noqa: N815
    currency = serializers.CharField()
    status = serializers.CharField()
    provider = serializers.CharField()
    instructions = _null(serializers.CharField, help_text="How to pay, while the invoice is open.")
    termsSha256 = serializers.CharField()  # noqa: N815
    datasetId = serializers.CharField()  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    paidAt = _null(serializers.DateTimeField)  # noqa: N815
    expiresAt = _null(serializers.DateTimeField, help_text="An open invoice can be paid until then.")  # noqa: N815
    closedAt = _null(serializers.DateTimeField, help_text="When it was voided, expired or refunded.")  # noqa: N815


class InvoiceListShape(Shape):
    items = InvoiceShape(many=True)


class PaymentShape(Shape):
    reference = serializers.CharField(required=False, help_text="The bank's or provider's reference.")


class RequiredReasonShape(Shape):
    reason = serializers.CharField(help_text="Why, in words the people concerned read.")


class OptionalReasonShape(Shape):
    reason = serializers.CharField(required=False, help_text="Why, if you wish to say.")


class RefundShape(Shape):
    invoiceId = serializers.CharField()  # noqa: N815
    amountCents = serializers.IntegerField()  # noqa: N815
    currency = serializers.CharField()
    reason = serializers.CharField()
    refundedAt = serializers.DateTimeField()  # noqa: N815
    revokedGrantId = serializers.IntegerField(help_text="The license grant the payment created, revoked now.")  # noqa: N815
    ledgerTransaction = serializers.CharField(help_text="The idempotency key of the ledger's reversal.")  # noqa: N815
    invoice = InvoiceShape()


class PayoutBatchShape(Shape):
    batchId = serializers.IntegerField()  # noqa: N815
    status = serializers.ChoiceField(choices=["pending", "paid", "cancelled"])
    currency = serializers.CharField()
    totalCents = serializers.IntegerField()  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    paidAt = _null(serializers.DateTimeField)  # noqa: N815
    reference = serializers.CharField()
    cancelledAt = _null(serializers.DateTimeField)  # noqa: N815
    cancelReason = serializers.CharField()  # noqa: N815


class AccessRequestInputShape(Shape):
    fullName = serializers.CharField(max_length=200)  # noqa: N815
    organization = serializers.CharField(max_length=200)
    intendedUse = serializers.CharField()  # noqa: N815


class AccessRequestShape(Shape):
    id = serializers.IntegerField()
    datasetId = serializers.CharField()  # noqa: N815
    username = serializers.CharField()
    fullName = serializers.CharField()  # noqa: N815
    organization = serializers.CharField()
    intendedUse = serializers.CharField()  # noqa: N815
    status = serializers.CharField()
    autoApproved = serializers.BooleanField()  # noqa: N815
    reason = _null(serializers.CharField)
    createdAt = serializers.DateTimeField()  # noqa: N815
    decidedAt = _null(serializers.DateTimeField)  # noqa: N815


class AccessRequestListShape(Shape):
    items = AccessRequestShape(many=True)


class ReasonShape(Shape):
    reason = serializers.CharField(required=False, help_text="Required to reject or revoke.")


# --- Version files and downloads -----------------------------------------------------------------


class VersionFileShape(Shape):
    kind = serializers.ChoiceField(["archive", "sample"])
    filename = serializers.CharField()
    sizeBytes = _null(serializers.IntegerField)  # noqa: N815
    sha256 = _null(serializers.CharField)


class VersionFilesShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    version = serializers.IntegerField()
    files = VersionFileShape(many=True)


class VersionDownloadShape(Shape):
    kind = serializers.ChoiceField(["archive", "sample"])
    version = serializers.IntegerField()
    filename = serializers.CharField()
    sizeBytes = serializers.IntegerField()  # noqa: N815
    sha256 = _null(serializers.CharField)
    downloadUrl = serializers.URLField(help_text="A presigned GET; send no Authorization to it.")  # noqa: N815
    expiresAt = serializers.DateTimeField()  # noqa: N815


# --- Delta downloads -----------------------------------------------------------------------------


class DeltaSignatureShape(Shape):
    keyid = serializers.CharField(help_text="SHA-256 (hex) of the signing key's DER public key.")
    sig = serializers.CharField(help_text="Base64 Ed25519 signature over the DSSE PAE.")


class DeltaEnvelopeShape(Shape):
    """A DSSE envelope whose payload (base64) is the canonical JSON of the delta: ``_type``,
    ``dataset {id, slug, name}``, ``from`` and ``to`` ``{version, archiveSha256, manifestSha256}``,
    ``added`` and ``removed`` ``[{path, size, sha256}]``, ``changed`` ``[{path, old {size, sha256},
    new {size, sha256}}]``, ``unchanged`` and ``issuedAt``."""

    payloadType = serializers.ChoiceField(["application/vnd.datacollective.delta+json"])  # noqa: N815
    payload = serializers.CharField(help_text="Base64 of the signed delta (canonical JSON).")
    signatures = DeltaSignatureShape(many=True)


class DeltaShape(Shape):
    delta = DeltaEnvelopeShape()
    downloads = serializers.DictField(
        child=serializers.URLField(),
        help_text="A presigned GET per added or changed file, keyed by its SHA-256; send no Authorization to them.",
    )
    expiresAt = serializers.DateTimeField(help_text="When the links stop starting downloads.")  # noqa: N815


DELTA_NOT_READY = {
    409: OpenApiResponse(
        ErrorShape,
        description="The files of version `to` are still being prepared (with `Retry-After`), or cannot be "
        "served one by one (download the whole archive).",
    )
}


# --- Consent withdrawals -------------------------------------------------------------------------


class WithdrawalInputShape(Shape):
    version = serializers.IntegerField()
    recordIds = serializers.ListField(child=serializers.CharField(max_length=200), required=False)  # noqa: N815
    fileHashes = serializers.ListField(  # noqa: N815
        child=serializers.RegexField(r"^[0-9a-fA-F]{64}$"), required=False, help_text="SHA-256 hex of withdrawn files."
    )
    contributorId = serializers.CharField(required=False, max_length=128)  # noqa: N815
    reason = serializers.CharField(required=False)


class RereleaseShape(Shape):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "running", "in_review", "published", "nothing_to_remove",
                                              "superseded", "failed"])  # fmt: skip
    sourceVersion = _null(serializers.IntegerField, help_text="The version rewritten.")  # noqa: N815
    version = _null(serializers.IntegerField, help_text="The version published without the records.")
    submissionId = _null(serializers.CharField)  # noqa: N815
    removedFiles = serializers.ListField(child=serializers.DictField())  # noqa: N815
    removedRows = serializers.DictField(child=serializers.IntegerField())  # noqa: N815
    error = _null(serializers.CharField)
    createdAt = serializers.DateTimeField()  # noqa: N815
    finishedAt = _null(serializers.DateTimeField)  # noqa: N815


class RereleaseListShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    items = RereleaseShape(many=True)


class WithdrawalShape(Shape):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    withdrawnAt = serializers.DateTimeField()  # noqa: N815
    rerelease = RereleaseShape()
    removals = serializers.CharField(help_text="The removal feed's URL.")


class NoticeShape(Shape):
    withdrawalId = serializers.IntegerField()  # noqa: N815
    datasetId = serializers.CharField()  # noqa: N815
    datasetName = serializers.CharField()  # noqa: N815
    version = serializers.IntegerField(help_text="The version you downloaded.")
    notifiedAt = serializers.DateTimeField()  # noqa: N815
    acknowledgedAt = _null(serializers.DateTimeField)  # noqa: N815
    removals = serializers.CharField(help_text="The removal feed's URL.")
    acknowledgement = serializers.CharField(help_text="POST here once you deleted the records.")


class NoticeListShape(Shape):
    items = NoticeShape(many=True)


class AcknowledgementShape(Shape):
    withdrawalId = serializers.IntegerField()  # noqa: N815
    acknowledgedAt = serializers.DateTimeField()  # noqa: N815


class AcknowledgementRowShape(Shape):
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    notifiedAt = serializers.DateTimeField()  # noqa: N815
    acknowledgedAt = _null(serializers.DateTimeField)  # noqa: N815


class AcknowledgementListShape(Shape):
    withdrawalId = serializers.IntegerField()  # noqa: N815
    notified = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    items = AcknowledgementRowShape(many=True)


class RemovalShape(Shape):
    id = serializers.IntegerField()
    withdrawnAt = serializers.DateTimeField()  # noqa: N815
    version = serializers.IntegerField()
    versionSha256 = serializers.CharField()  # noqa: N815
    recordIds = serializers.ListField(child=serializers.CharField())  # noqa: N815
    fileHashes = serializers.ListField(child=serializers.CharField())  # noqa: N815
    reason = serializers.CharField(allow_blank=True)
    replacementVersion = _null(serializers.IntegerField)  # noqa: N815
    rerelease = RereleaseShape(allow_null=True)
    statement = serializers.DictField(allow_null=True, help_text="DSSE envelope of the signed removal statement.")
    statementSha256 = _null(serializers.CharField)  # noqa: N815
    logIndex = _null(serializers.IntegerField, help_text="Its transparency-log entry (see the inclusion proof).")  # noqa: N815


class RemovalFeedShape(Shape):
    datasetId = serializers.CharField()  # noqa: N815
    items = RemovalShape(many=True)


# --- A person's own account: payout details, their data ------------------------------------------


class PayoutDetailsInputShape(Shape):
    method = serializers.ChoiceField(choices=["bank", "paypal", "other"])
    accountHolder = serializers.CharField(max_length=200)  # noqa: N815
    account = serializers.CharField(max_length=200, help_text="An IBAN or account number, or a PayPal address.")
    bankName = serializers.CharField(max_length=200, required=False, allow_blank=True)  # noqa: N815
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class PayoutDetailsShape(Shape):
    method = serializers.ChoiceField(choices=["bank", "paypal", "other"])
    accountHolder = serializers.CharField()  # noqa: N815
    account = serializers.CharField()
    bankName = serializers.CharField(allow_blank=True)  # noqa: N815
    notes = serializers.CharField(allow_blank=True)
    updatedAt = serializers.DateTimeField()  # noqa: N815


class PersonalAccountShape(Shape):
    id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    firstName = serializers.CharField(allow_blank=True)  # noqa: N815
    lastName = serializers.CharField(allow_blank=True)  # noqa: N815
    joinedAt = serializers.DateTimeField()  # noqa: N815
    lastLoginAt = _null(serializers.DateTimeField)  # noqa: N815
    active = serializers.BooleanField()


def _rows(help_text: str) -> Any:
    return serializers.ListField(child=serializers.DictField(), help_text=help_text)


class PersonalDataShape(Shape):
    format = serializers.CharField(help_text="datacollective-personal-data/1")
    exportedAt = serializers.DateTimeField()  # noqa: N815
    account = PersonalAccountShape()
    memberships = _rows("Organizations and roles.")
    claims = _rows("Claimed contributor ids and payee addresses, by organization.")
    consentRecords = _rows("Consent records of the claimed contributor ids, with the exact consent text.")  # noqa: N815
    withdrawals = _rows("Withdrawals recorded by the person or for their claimed contributor ids.")
    earnings = serializers.DictField(help_text="totals, datasets (per month) and payouts, in integer cents.")
    payoutDetails = serializers.DictField(allow_null=True)  # noqa: N815
    licenseGrants = _rows("Terms accepted.")  # noqa: N815
    invoices = _rows("Invoices.")
    payments = _rows("Payments of the invoices.")
    accessRequests = _rows("Access requests.")  # noqa: N815
    apiKeys = _rows("API keys: name, prefix, scopes and dates, never the key or its hash.")  # noqa: N815
    downloads = _rows("Download counts per dataset and kind.")
