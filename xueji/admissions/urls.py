from __future__ import annotations

from django.urls import path

from xueji.admissions import views

app_name = "admissions"
urlpatterns = [
    path("", views.index, name="index"),
    path("template.xlsx", views.template_download, name="template"),
    path("precheck/", views.precheck, name="precheck"),
    path("precheck/<slug:token>/annotated.xlsx", views.precheck_annotated, name="precheck_annotated"),
]
