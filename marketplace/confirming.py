"""The confirmation step every destructive page action takes.

A list's button posts to the action's URL without ``confirm=yes``; the view answers with this page,
which says what will happen and what cannot be undone; only its own button, which posts
``confirm=yes``, acts. Plain forms, so it works without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Confirmation:
    question: str  # the page's heading: "Revoke the key “laptop”?"
    consequences: list[str]  # what happens, then what cannot be undone, in plain sentences
    confirm_label: str  # the danger button: "Yes, revoke the key"
    action_url: str
    back_url: str  # where Cancel (and the breadcrumb) lead
    back_label: str  # the breadcrumb: the page the person came from
    cancel_label: str = ""  # "No, go back" unless said


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def confirmation_page(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    cancel_label = confirmation.cancel_label or _("No, go back")
    return render(request, "confirm.html", {"confirmation": confirmation, "cancel_label": cancel_label})
