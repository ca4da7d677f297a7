from __future__ import annotations

from django.urls import path

from xueji.stats import views

app_name = "stats"
urlpatterns = [path("", views.index, name="index")]
