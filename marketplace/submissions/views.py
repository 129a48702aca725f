"""Submission pages: a contributor's drafts (datasheet, license, pricing, consent, revenue split,
archive and sample uploads, submitting) and the reviewers' queue (approve or reject).

Views parse forms and call the same services as the API (marketplace.submissions,
licensing.consent, marketplace.uploads); a service's error is shown beside the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licensing.consent import terms as consent
from marketplace.accounts.second_factor import second_factor_required
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Membership, Submission, Upload, User
from marketplace.permissions import signed_in_user
from marketplace.submissions import drafts, inputs, reports, rules
from marketplace.submissions import review as reviewing
from marketplace.submissions.forms import (
    ConsentForm,
    ConsentRecordsForm,
    DatasheetForm,
    ParentsForm,
    RejectForm,
    ShareFormSet,
    shares_in,
)
from provenance import lineage


def _show_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's error beside the field it names; the rest above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _own_submission(request: HttpRequest, submission_id: str) -> Submission:
    try:
        return drafts.submission_for(user=signed_in_user(request), submission_id=submission_id)
    except Submission.DoesNotExist:
        raise Http404(f"No submission with id '{submission_id}'.") from None
    except rules.SubmissionGone:
        raise Http404("This submission was deleted.") from None


@login_required
@require_GET
def submission_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    organizations = Membership.objects.filter(user=user, role__in=rules.UPLOADER_ROLES).values("organization")
    mine = (
        Submission.objects.filter(organization__in=organizations)
        .exclude(status=Submission.Status.DELETED)
        .select_related("organization", "created_by", "dataset")
    )
    cannot_upload = ""
    try:
        drafts.uploading_organization(user=user)
    except PermissionDenied as exc:
        cannot_upload = str(exc)
    return render(
        request,
        "submissions/list.html",
        {
            "submissions": mine,
            "cannot_upload": cannot_upload,
            "reviewing": len(reviewing.review_queue(user=user)),
        },
    )


class NewSubmissionForm(forms.Form):
    name = forms.CharField(max_length=inputs.MDC_TEXT_LIMITS["name"], help_text="You can change it later.")


@login_required
@require_http_methods(["GET", "POST"])
def submission_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = NewSubmissionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = drafts.create_submission(user=user, name=form.cleaned_data["name"])
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The draft is saved. Fill in the rest in any order; nothing is lost.")
            return redirect("submission-edit", submission_id=submission.id)
    return render(request, "submissions/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def version_create(request: HttpRequest, slug: str) -> HttpResponse:
    """The dataset page's "New version": the draft of the next version (made now, prefilled from
    the current one, or the one already open), then its edit page."""
    user = signed_in_user(request)
    dataset = get_object_or_404(visible_datasets(user=user).select_related("organization"), slug=slug)
    try:
        draft, created = drafts.open_version_draft(user=user, dataset=dataset)
    except rules.SubmissionConflict as exc:
        messages.error(request, str(exc))
        return redirect("dataset-detail", slug=dataset.slug)
    number = (dataset.current_version.number if dataset.current_version else 0) + 1
    if created:
        messages.success(
            request,
            f"Draft of version {number}: the datasheet, license, consent terms and revenue split of the current "
            "version are filled in. Upload the new archive and say what changed.",
        )
    else:
        messages.info(request, f"The draft of version {number} was already open: here it is.")
    return redirect("submission-edit", submission_id=draft.id)


def upload_urls(submission: Submission, kind: str) -> dict[str, str]:
    """The API addresses the upload widget calls, with FILE_UPLOAD_ID and PART_NUMBER to fill in."""
    placeholder = "FILE_UPLOAD_ID"
    if kind == Upload.Kind.SAMPLE:
        sid = submission.id
        start = reverse("mdc-sample-start", args=[sid])
        part = reverse("mdc-sample-part", args=[sid, placeholder, 1])
        complete = reverse("mdc-sample-complete", args=[sid, placeholder])
    else:
        start = reverse("mdc-upload-start")
        part = reverse("mdc-upload-part", args=[placeholder, 1])
        complete = reverse("mdc-upload-complete", args=[placeholder])
    return {
        "start": start,
        "part": part.removesuffix("/1") + "/PART_NUMBER",
        "complete": complete,
        "stored_parts": reverse("api-upload-parts", args=[placeholder]),
        "abort": reverse("api-upload", args=[placeholder]),
    }


def _edit_context(submission: Submission, **forms_by_name: Any) -> dict[str, Any]:
    terms = consent.current_terms(submission)
    shares = list(submission.revenue_shares.select_related("user"))
    initial_shares = [
        {
            "username": share.user.username if share.user else "",
            "name": share.payee_name,
            "email": share.payee_email,
            "basis_points": share.basis_points,
        }
        for share in shares
    ]
    uploads_by_kind = {
        kind: Upload.objects.filter(submission=submission, kind=kind).order_by("-created_at").first()
        for kind in (Upload.Kind.ARCHIVE, Upload.Kind.SAMPLE)
    }
    context: dict[str, Any] = {
        "submission": submission,
        "editable": rules.is_editable(submission),
        "datasheet_form": DatasheetForm(
            initial=DatasheetForm.initial_of(submission), new_version=submission.dataset_id is not None
        ),
        "consent_form": ConsentForm(initial=_consent_initial(terms)),
        "records_form": ConsentRecordsForm(),
        "share_formset": ShareFormSet(initial=initial_shares, prefix="shares"),
        "parents_form": ParentsForm(initial=ParentsForm.initial_of(submission)),
        "parents": list(submission.parents.select_related("dataset").order_by("dataset__slug", "number")),
        "terms": terms,
        "record_count": terms.records.count() if terms else 0,
        "shares": shares,
        "archive_upload": uploads_by_kind[Upload.Kind.ARCHIVE],
        "sample_upload": uploads_by_kind[Upload.Kind.SAMPLE],
        "problems": drafts.submission_problems(submission),
        "validation": _validation_of(uploads_by_kind[Upload.Kind.ARCHIVE]),
        "sample_validation": _validation_of(uploads_by_kind[Upload.Kind.SAMPLE]),
        "archive_urls": upload_urls(submission, Upload.Kind.ARCHIVE),
        "sample_urls": upload_urls(submission, Upload.Kind.SAMPLE),
    }
    context.update(forms_by_name)
    return context


# The report lists every file; the page shows the first ones and links the API for the rest.
SHOWN_FILES = 200


def _validation_of(upload: Upload | None) -> dict[str, Any] | None:
    if upload is None or upload.status != Upload.Status.COMPLETED:
        return None
    report = reports.report_for(upload)
    return {**report, "upload": upload, "shown_files": report["files"][:SHOWN_FILES]}


@login_required
@require_GET
def submission_validation(request: HttpRequest, submission_id: str) -> HttpResponse:
    """The report as a fragment, which the page polls while a worker validates. When the result
    arrives the page reloads, so that its list of what is missing is current."""
    submission = _own_submission(request, submission_id)
    archive = Upload.objects.filter(submission=submission, kind=Upload.Kind.ARCHIVE).order_by("-created_at").first()
    report = _validation_of(archive)
    response = render(request, "submissions/_validation.html", {"submission": submission, "validation": report})
    if report and report["status"] in ("passed", "failed") and request.GET.get("was") in ("pending", "running"):
        response["HX-Refresh"] = "true"
    return response


def _consent_initial(terms: Any) -> dict[str, Any]:
    if terms is None:
        return {}
    return {
        "ai_training": terms.ai_training,
        "commercial_use": terms.commercial_use,
        "research_only": terms.research_only,
        "redistribution": terms.redistribution,
        "derivatives": terms.derivatives,
        "scope": terms.scope_text,
        "consent_text": terms.consent_text,
        "collection_start": terms.collection_start,
        "collection_end": terms.collection_end,
        "withdrawal_process": terms.withdrawal_process,
    }


def _render_edit(request: HttpRequest, submission: Submission, status: int = 200, **forms_by_name: Any) -> HttpResponse:
    return render(request, "submissions/edit.html", _edit_context(submission, **forms_by_name), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request: HttpRequest, submission_id: str) -> HttpResponse:
    """The draft's page; a POST saves the datasheet."""
    submission = _own_submission(request, submission_id)
    if request.method == "GET":
        return _render_edit(request, submission)
    form = DatasheetForm(request.POST, new_version=submission.dataset_id is not None)
    if form.is_valid():
        try:
            drafts.update_submission(submission=submission, changes=form.changes)
        except ValidationError as exc:
            form.show_errors(exc)
        except rules.SubmissionConflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Datasheet saved.")
            return redirect("submission-edit", submission_id=submission.id)
    return _render_edit(request, submission, status=400, datasheet_form=form)


@login_required
@require_POST
def submission_consent(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            rules.ensure_editable(submission)
            consent.set_consent_terms(submission=submission, user=signed_in_user(request), terms=form.terms())
        except ValidationError as exc:
            _show_errors(form, exc)
        except rules.SubmissionConflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Consent terms saved.")
            return redirect("submission-edit", submission_id=submission.id)
    return _render_edit(request, submission, status=400, consent_form=form)


@login_required
@require_POST
def submission_consent_records(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    form = ConsentRecordsForm(request.POST, request.FILES)
    terms = consent.current_terms(submission)
    if form.is_valid():
        try:
            if terms is None:
                raise ValidationError("Save the consent terms first: records are added under them.")
            rules.ensure_editable(submission)
            text = form.cleaned_data["records"].read().decode("utf-8-sig")
            added = consent.add_consent_records_csv(terms=terms, text=text)
        except UnicodeDecodeError:
            form.add_error("records", "The file is not UTF-8 text.")
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("records", error)
        except rules.SubmissionConflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{added} consent records added.")
            return redirect("submission-edit", submission_id=submission.id)
    return _render_edit(request, submission, status=400, records_form=form)


@login_required
@require_POST
def submission_contributors(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    formset = ShareFormSet(request.POST, prefix="shares")
    errors: list[str] = []
    if formset.is_valid():
        try:
            rules.ensure_editable(submission)  # as the API: a split that cannot change is not read
            drafts.set_revenue_split(submission=submission, shares=shares_in(formset))
        except ValidationError as exc:
            errors = exc.messages
        except rules.SubmissionConflict as exc:
            errors = [str(exc)]
        else:
            messages.success(request, "Revenue split saved.")
            return redirect("submission-edit", submission_id=submission.id)
    return _render_edit(request, submission, status=400, share_formset=formset, share_errors=errors)


@login_required
@require_POST
def submission_parents(request: HttpRequest, submission_id: str) -> HttpResponse:
    """The lineage section: the published versions this dataset derives from, as the API's
    ``PUT .../parents`` sets them (the same service, the same checks)."""
    submission = _own_submission(request, submission_id)
    form = ParentsForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            rules.ensure_editable(submission)
            lineage.set_parents(submission=submission, parents=form.cleaned_data["parents"], user=request.user)
        except ValidationError as exc:
            errors = exc.messages
        except rules.SubmissionConflict as exc:
            errors = [str(exc)]
        else:
            count = len(form.cleaned_data["parents"])
            messages.success(
                request,
                ngettext("Lineage saved: %(n)s parent.", "Lineage saved: %(n)s parents.", count) % {"n": count}
                if count
                else _("Lineage saved: no parent."),
            )
            return redirect(reverse("submission-edit", args=[submission.id]) + "#lineage")
    return _render_edit(request, submission, status=400, parents_form=form, parents_errors=errors)


@login_required
@require_POST
def submission_submit(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    try:
        inputs.check_agreement(request.POST.get("agree") == "on")
        drafts.submit_submission(submission=submission)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    except rules.SubmissionConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Submitted for review. Reviewers are notified; you will see their answer here.")
    return redirect("submission-edit", submission_id=submission.id)


@login_required
@require_POST
def submission_delete(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    try:
        drafts.delete_submission(submission=submission)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("submission-edit", submission_id=submission.id)
    messages.success(request, f"Submission “{submission.name}” and its uploaded files are deleted.")
    return redirect("submission-list")


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(request, "submissions/review_queue.html", {"waiting": reviewing.review_queue(user=user)})


def _reviewable(user: User, submission_id: str) -> Submission:
    submission = Submission.objects.select_related("organization", "created_by").filter(id=submission_id).first()
    if submission is None or submission.status == Submission.Status.DELETED:
        raise Http404(f"No submission with id '{submission_id}'.")
    if not rules.can_open_review(user, submission):
        raise PermissionDenied(
            "Only the organization's reviewers or staff review a submission, never its author, and only once it "
            "is submitted."
        )
    return submission


@login_required
@require_http_methods(["GET", "POST"])
@second_factor_required
def review(request: HttpRequest, submission_id: str) -> HttpResponse:
    user = signed_in_user(request)
    submission = _reviewable(user, submission_id)
    rejecting = request.method == "POST" and request.POST.get("decision") == "reject"
    reject_form = RejectForm(request.POST if rejecting else None)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "approve":
                version = reviewing.approve_submission(submission=submission, reviewer=user)
                messages.success(request, f"Approved: {version.dataset.name} version {version.number} is published.")
                return redirect("dataset-detail", slug=version.dataset.slug)
            if rejecting and reject_form.is_valid():
                reviewing.reject_submission(
                    submission=submission, reviewer=user, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, "Rejected; the contributor sees your reason.")
                return redirect("review-queue")
            if not rejecting:
                errors.append("Choose to approve or to reject.")
        except ValidationError as exc:
            errors += exc.messages
        except (rules.SubmissionConflict, PermissionDenied) as exc:
            errors.append(str(exc))
    context = _edit_context(submission, reject_form=reject_form, decision_errors=errors)
    return render(request, "submissions/review.html", context, status=400 if request.method == "POST" else 200)
