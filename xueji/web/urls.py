from __future__ import annotations

from django.urls import URLPattern

app_name = "web"
urlpatterns: list[URLPattern] = []  # every menu entry has its own app now; kept for shell pages to come
