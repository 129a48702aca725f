"""Staff pages of federation: the instances this one follows, witnesses or collects cosignatures
from (add one by URL, turn roles on and off, sync now), and the split-view alarms raised."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketplace.models import User
from marketplace.permissions import signed_in_user
from provenance.federation import client, following, listing
from provenance.models import Peer


class PeerForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Instance address"),
        max_length=300,
        help_text=gettext_lazy("Its base address, e.g. https://data.example.org"),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    following = forms.BooleanField(
        label=gettext_lazy("Follow its catalog (list its datasets here)"), required=False, initial=True
    )
    witnessing = forms.BooleanField(label=gettext_lazy("Witness its log (cosign its tree heads)"), required=False)
    collecting = forms.BooleanField(label=gettext_lazy("It witnesses us (collect its cosignatures)"), required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not (data.get("following") or data.get("witnessing") or data.get("collecting")):
            raise forms.ValidationError(_("Choose at least one thing to do with the instance."))
        return data


ACTIONS = {
    "follow": {"following": True},
    "unfollow": {"following": False},
    "witness": {"witnessing": True},
    "unwitness": {"witnessing": False},
    "collect": {"collecting": True},
    "uncollect": {"collecting": False},
}


def _staff(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not user.is_staff:
        raise PermissionDenied(_("Only staff manage the instances this one follows and witnesses."))
    return user


@login_required
@require_http_methods(["GET", "POST"])
def peers(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = PeerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                peer = following.add_peer(
                    url=form.cleaned_data["url"],
                    by=user,
                    following=form.cleaned_data["following"],
                    witnessing=form.cleaned_data["witnessing"],
                    collecting=form.cleaned_data["collecting"],
                )
            except client.PeerError as exc:
                form.add_error("url", str(exc))
            else:
                following.schedule_run(peer=peer)
                messages.success(request, _("Added %(url)s; the first sync is queued.") % {"url": peer.url})
                return redirect("federation-peers")
        status = 400
    context = {"form": form, "peers": list(listing.peers()), "alarm_count": listing.alarms().count()}
    return render(request, "federation/peers.html", context, status=status)


@login_required
@require_POST
def peer_action(request: HttpRequest, peer_id: int) -> HttpResponse:
    _staff(request)
    peer = get_object_or_404(Peer, id=peer_id)
    action = request.POST.get("action", "")
    if action == "sync":
        following.schedule_run(peer=peer)
        messages.success(request, _("A sync of %(url)s is queued.") % {"url": peer.url})
    elif action in ACTIONS:
        following.set_roles(peer=peer, **ACTIONS[action])
        messages.success(request, _("Saved for %(url)s.") % {"url": peer.url})
    else:
        messages.error(request, _("Unknown action."))
    return redirect("federation-peers")


@dataclass(frozen=True)
class SignedHead:
    """One signed head of an alarm as the page shows it: the envelope as JSON, and what it says."""

    envelope: str
    says: dict[str, Any]


def _signed_head(envelope: Any) -> SignedHead:
    try:
        says = json.loads(base64.b64decode(envelope["payload"]))
    except (KeyError, TypeError, ValueError):
        says = {}
    return SignedHead(json.dumps(envelope, indent=1, sort_keys=True), says if isinstance(says, dict) else {})


@login_required
@require_GET
def alarms(request: HttpRequest) -> HttpResponse:
    _staff(request)
    rows = [
        {"alarm": alarm, "first": _signed_head(alarm.first_head), "second": _signed_head(alarm.second_head),
         "proof": json.dumps(alarm.proof, indent=1, sort_keys=True) if alarm.proof is not None else ""}
        for alarm in listing.alarms()[:200]
    ]  # fmt: skip
    return render(request, "federation/alarms.html", {"rows": rows})
