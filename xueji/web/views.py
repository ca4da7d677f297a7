from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from xueji.web.home import home_cards
from xueji.web.menu import PENDING_FEATURES


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"cards": home_cards(request.user)})  # type: ignore[arg-type]


@login_required
def pending(request: HttpRequest, feature: str) -> HttpResponse:
    if feature not in PENDING_FEATURES:
        raise Http404
    return render(request, "web/pending.html", {"title": PENDING_FEATURES[feature]})


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
