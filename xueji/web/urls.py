from __future__ import annotations

from django.urls import path

from xueji.web import views

app_name = "web"
urlpatterns = [
    path("pending/<slug:feature>/", views.pending, name="pending"),
]
