"""Submission pages: a contributor's drafts (datasheet, license, pricing, consent, revenue split,
archive and sample uploads, submitting) and the reviewers' queue (approve or reject).

Views parse forms and call the same services as the API (marketplace.submissions,
licensing.consent, marketplace.uploads); a service's error is shown beside the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licensing.consent import terms as consent
from marketplace.accounts.second_factor import second_factor_required
from marketplace.accounts.verified_email import verified_email_required
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
    initial_shares,
    shares_in,
)
from marketplace.templatetags.error_summary import Problem
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
        raise Http404(_("No submission with id '%(submission_id)s'.") % {"submission_id": submission_id}) from None
    except rules.SubmissionGone:
        raise Http404(_("This submission was deleted.")) from None


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
    # Why the person cannot upload, said with what to do about it (the API keeps its own sentence).
    can_upload, waiting_organization = True, ""
    try:
        drafts.uploading_organization(user=user)
    except PermissionDenied:
        can_upload = False
        waiting = Membership.objects.filter(user=user, role__in=rules.UPLOADER_ROLES).select_related("organization")
        first = waiting.order_by("created_at", "id").first()
        waiting_organization = first.organization.name if first else ""
    return render(
        request,
        "submissions/list.html",
        {
            "submissions": mine,
            "can_upload": can_upload,
            "waiting_organization": waiting_organization,
            "reviewing": len(reviewing.review_queue(user=user)),
        },
    )


class NewSubmissionForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=inputs.MDC_TEXT_LIMITS["name"],
        help_text=gettext_lazy("You can change it later."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@verified_email_required
def submission_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = NewSubmissionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = drafts.create_submission(user=user, name=form.cleaned_data["name"])
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The draft is saved. Fill in the rest in any order, then save: nothing is lost.")
            )
            return redirect("submission-edit", submission_id=submission.id)
    return render(request, "submissions/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
@verified_email_required
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
            _(
                "Draft of version %(number)s: the datasheet, license, consent terms and revenue split of the current "
                "version are filled in. Upload the new archive and say what changed."
            )
            % {"number": number},
        )
    else:
        messages.info(request, _("The draft of version %(number)s was already open: here it is.") % {"number": number})
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


# A consent-records file as the page shows it (the columns are the file's, not words to translate).
RECORDS_EXAMPLE = "contributor_id,given_at\nc-001,2024-05-31\nc-002,2024-06-02T09:15:00+01:00"


def _edit_context(submission: Submission, **forms_by_name: Any) -> dict[str, Any]:
    terms = consent.current_terms(submission)
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
        "share_formset": ShareFormSet(initial=initial_shares(submission), prefix="shares"),
        "parents_form": ParentsForm(initial=ParentsForm.initial_of(submission)),
        "parents": list(submission.parents.select_related("dataset").order_by("dataset__slug", "number")),
        "terms": terms,
        "record_count": terms.records.count() if terms else 0,
        "shares": list(submission.revenue_shares.select_related("user")),
        "archive_upload": uploads_by_kind[Upload.Kind.ARCHIVE],
        "sample_upload": uploads_by_kind[Upload.Kind.SAMPLE],
        "problems": drafts.submission_problems(submission, for_people=True),
        "validation": _validation_of(uploads_by_kind[Upload.Kind.ARCHIVE]),
        "sample_validation": _validation_of(uploads_by_kind[Upload.Kind.SAMPLE]),
        "archive_urls": upload_urls(submission, Upload.Kind.ARCHIVE),
        "sample_urls": upload_urls(submission, Upload.Kind.SAMPLE),
        "records_example": RECORDS_EXAMPLE,
        "share_errors": [],
        "submit_errors": [],
    }
    context.update(forms_by_name)
    # The split's problems found by its service link to the split's first field.
    split = _("Contributors and revenue split")
    context["page_errors"] = [
        *(Problem(str(error), "id_shares-0-username", split) for error in context["share_errors"]),
        *context["submit_errors"],
    ]
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
    if request.headers.get("HX-Request") != "true":  # opened on its own (a bookmark, a new tab): the page it belongs to
        return redirect("submission-edit", submission_id=submission.id)
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


def _as_typed(data: QueryDict) -> QueryDict:
    """The POST with every line break as LF: HTML form encoding sends CRLF, which would make an
    unchanged text look changed (and change the SHA-256 of consent text pasted with LF)."""
    typed = data.copy()
    for key in typed:
        typed.setlist(key, [value.replace("\r\n", "\n") for value in typed.getlist(key)])
    return typed


@dataclass
class _Saving:
    """One POST of the draft's page: the parts it saved, and the bound forms of the parts that
    failed (kept with what was typed, their errors beside their fields)."""

    saved: list[str] = field(default_factory=list)
    failed: dict[str, Any] = field(default_factory=dict)


def _save_draft(request: HttpRequest, submission: Submission) -> _Saving:
    """Save every part of the draft's one form that the POST carries and that differs from what is
    stored: the datasheet, the consent terms (then their records), the revenue split, the lineage.
    Each part is saved by its own service, in its own transaction, so a part with a mistake never
    keeps the others from being saved, and is shown again as typed. An unchanged part is not
    written again (consent terms would be recorded anew)."""
    data = _as_typed(request.POST)
    user = signed_in_user(request)
    saving = _Saving()
    if "name" in data:
        datasheet = DatasheetForm(
            data, initial=DatasheetForm.initial_of(submission), new_version=submission.dataset_id is not None
        )
        if datasheet.has_changed():
            if datasheet.is_valid():
                try:
                    drafts.update_submission(submission=submission, changes=datasheet.changes)
                except ValidationError as exc:
                    datasheet.show_errors(exc)
                except rules.SubmissionConflict as exc:
                    datasheet.add_error(None, str(exc))
                else:
                    saving.saved.append(_("Datasheet saved."))
            if datasheet.errors:
                saving.failed["datasheet_form"] = datasheet
    if "consent_text" in data:
        terms = ConsentForm(data, initial=_consent_initial(consent.current_terms(submission)))
        if terms.has_changed():
            if terms.is_valid():
                try:
                    rules.ensure_editable(submission)
                    consent.set_consent_terms(submission=submission, user=user, terms=terms.terms())
                except ValidationError as exc:
                    _show_errors(terms, exc)
                except rules.SubmissionConflict as exc:
                    terms.add_error(None, str(exc))
                else:
                    saving.saved.append(_("Consent terms saved."))
            if terms.errors:
                saving.failed["consent_form"] = terms
    if request.FILES.get("records"):
        _save_records(request, submission, saving)
    if "shares-TOTAL_FORMS" in data:
        split = ShareFormSet(data, initial=initial_shares(submission), prefix="shares")
        if split.has_changed():
            errors: list[str] = []
            if split.is_valid():
                try:
                    rules.ensure_editable(submission)  # as the API: a split that cannot change is not read
                    drafts.set_revenue_split(submission=submission, shares=shares_in(split))
                except ValidationError as exc:
                    errors = exc.messages
                except rules.SubmissionConflict as exc:
                    errors = [str(exc)]
                else:
                    saving.saved.append(_("Revenue split saved."))
            if errors or not split.is_valid():
                saving.failed |= {"share_formset": split, "share_errors": errors}
    if "parents" in data:
        _save_parents(request, submission, data, saving)
    return saving


def _save_records(request: HttpRequest, submission: Submission, saving: _Saving) -> None:
    form = ConsentRecordsForm(request.POST, request.FILES)
    terms = consent.current_terms(submission)
    if form.is_valid():
        try:
            if terms is None:
                raise ValidationError(_("Save the consent terms first: records are added under them."))
            rules.ensure_editable(submission)
            text = form.cleaned_data["records"].read().decode("utf-8-sig")
            added = consent.add_consent_records_csv(terms=terms, text=text)
        except UnicodeDecodeError:
            form.add_error("records", _("The file is not UTF-8 text."))
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("records", error)
        except rules.SubmissionConflict as exc:
            form.add_error(None, str(exc))
        else:
            saving.saved.append(
                ngettext("%(n)s consent record added.", "%(n)s consent records added.", added) % {"n": added}
            )
    if form.errors:
        saving.failed["records_form"] = form


def _save_parents(request: HttpRequest, submission: Submission, data: QueryDict, saving: _Saving) -> None:
    """The lineage: the published versions this dataset derives from, as the API's
    ``PUT .../parents`` sets them (the same service, the same checks)."""
    form = ParentsForm(data, initial=ParentsForm.initial_of(submission))
    if not form.has_changed():
        return
    if form.is_valid():
        try:
            rules.ensure_editable(submission)
            lineage.set_parents(submission=submission, parents=form.cleaned_data["parents"], user=request.user)
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("parents", error)
        except rules.SubmissionConflict as exc:
            form.add_error(None, str(exc))
        else:
            count = len(form.cleaned_data["parents"])
            saving.saved.append(
                ngettext("Lineage saved: %(n)s parent.", "Lineage saved: %(n)s parents.", count) % {"n": count}
                if count
                else _("Lineage saved: no parent.")
            )
    if form.errors:
        saving.failed["parents_form"] = form


def _saved_message(request: HttpRequest, saving: _Saving) -> None:
    if saving.saved:
        at = timezone.localtime().strftime("%H:%M")
        messages.success(request, _("Saved at %(time)s.") % {"time": at} + " " + " ".join(saving.saved))
    else:
        messages.info(request, _("Nothing had changed: there was nothing to save."))


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request: HttpRequest, submission_id: str) -> HttpResponse:
    """The draft's page, one form: a POST saves every part that changed (``_save_draft``). The
    older per-part addresses (consent, records, contributors, parents) post the same form."""
    submission = _own_submission(request, submission_id)
    if request.method == "GET":
        return _render_edit(request, submission)
    saving = _save_draft(request, submission)
    if saving.failed:
        if saving.saved:
            messages.success(request, " ".join(saving.saved))
        submission.refresh_from_db()
        return _render_edit(request, submission, status=400, **saving.failed)
    _saved_message(request, saving)
    return redirect(reverse("submission-edit", args=[submission.id]) + _section_of(request))


def _section_of(request: HttpRequest) -> str:
    """Back to the section whose Save button was pressed."""
    by_address = {
        "submission-consent": "consent",
        "submission-consent-records": "consent",
        "submission-contributors": "contributors",
        "submission-parents": "lineage",
    }
    match = request.resolver_match
    section = request.POST.get("section") or by_address.get((match.url_name or "") if match else "", "")
    return f"#{section}" if section in ("datasheet", "consent", "contributors", "lineage") else ""


# The per-part addresses of the page before it became one form; a POST to any of them saves the
# parts it carries, as the page's own address does.
@login_required
@require_POST
def submission_part(request: HttpRequest, submission_id: str) -> HttpResponse:
    return submission_edit(request, submission_id)


submission_consent = submission_consent_records = submission_contributors = submission_parents = submission_part


@login_required
@require_POST
def submission_submit(request: HttpRequest, submission_id: str) -> HttpResponse:
    """ "Submit for review" submits the page's one form: what was typed is saved first, and the
    draft is submitted only when every part saved."""
    submission = _own_submission(request, submission_id)
    saving = _save_draft(request, submission)
    if saving.failed:
        submission.refresh_from_db()
        return _render_edit(request, submission, status=400, **saving.failed)
    errors: list[str] = []
    try:
        inputs.check_agreement(request.POST.get("agree") == "on")
        drafts.submit_submission(submission=submission)
    except ValidationError as exc:
        # The service names the API's fields; the page says the same in the datasheet's words.
        problems = [problem.rstrip(".") for problem in drafts.submission_problems(submission, for_people=True)]
        if problems:
            errors = [_("Cannot submit yet: %(problems)s.") % {"problems": "; ".join(problems)}]
        else:
            errors = exc.messages
    except rules.SubmissionConflict as exc:
        errors = [str(exc)]
    if errors:
        if saving.saved:
            messages.success(request, " ".join(saving.saved))
        submission.refresh_from_db()
        return _render_edit(request, submission, status=400, submit_errors=errors)
    messages.success(request, _("Submitted for review. Reviewers are notified; you will see their answer here."))
    return redirect("submission-edit", submission_id=submission.id)


@login_required
@require_POST
def submission_delete(request: HttpRequest, submission_id: str) -> HttpResponse:
    """Deleting takes two steps: the draft page's button asks for this page, which says what goes
    (the draft, its uploads, its consent records); only its own POST, with ``confirm=yes``, deletes."""
    submission = _own_submission(request, submission_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            drafts.delete_submission(submission=submission)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("submission-edit", submission_id=submission.id)
        messages.success(
            request, _("Submission “%(name)s” and its uploaded files are deleted.") % {"name": submission.name}
        )
        return redirect("submission-list")
    uploads = Upload.objects.filter(submission=submission).exclude(status=Upload.Status.ABORTED).count()
    return render(request, "submissions/delete.html", {"submission": submission, "uploads": uploads})


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(request, "submissions/review_queue.html", {"waiting": reviewing.review_queue(user=user)})


def _reviewable(user: User, submission_id: str) -> Submission:
    submission = Submission.objects.select_related("organization", "created_by").filter(id=submission_id).first()
    if submission is None or submission.status == Submission.Status.DELETED:
        raise Http404(_("No submission with id '%(submission_id)s'.") % {"submission_id": submission_id})
    if not rules.can_open_review(user, submission):
        raise PermissionDenied(
            _(
                "Only the organization's reviewers or staff review a submission, never its author, and only once it "
                "is submitted."
            )
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
                messages.success(
                    request,
                    _("Approved: %(name)s version %(number)s is published.")
                    % {"name": version.dataset.name, "number": version.number},
                )
                return redirect("dataset-detail", slug=version.dataset.slug)
            if rejecting and reject_form.is_valid():
                reviewing.reject_submission(
                    submission=submission, reviewer=user, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, _("Rejected; the contributor sees your reason."))
                return redirect("review-queue")
            if not rejecting:
                errors.append(_("Choose to approve or to reject."))
        except ValidationError as exc:
            errors += exc.messages
        except (rules.SubmissionConflict, PermissionDenied) as exc:
            errors.append(str(exc))
    context = _edit_context(submission, reject_form=reject_form, decision_errors=errors)
    return render(request, "submissions/review.html", context, status=400 if request.method == "POST" else 200)
