from __future__ import annotations

from django.urls import path

from xueji.reconcile import views

app_name = "reconcile"
urlpatterns = [
    path("", views.reconcile_index, name="index"),
    path("export/", views.reconcile_export, name="export"),
    path("roster/", views.roster, name="roster"),
    path("roster/upload/", views.roster_upload, name="roster_upload"),
    path("roster/<int:pk>/", views.roster_detail, name="roster_detail"),
    path("roster/entry/<int:pk>/correct/", views.roster_correct, name="roster_correct"),
]
