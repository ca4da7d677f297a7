from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xueji.web.home import home_cards


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"cards": home_cards(request.user)})  # type: ignore[arg-type]


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
