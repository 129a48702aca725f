from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace.selectors import catalog_datasets


def home(request: HttpRequest) -> HttpResponse:
    newest = list(catalog_datasets()[:12])
    return render(request, "home.html", {"newest": newest})
