from __future__ import annotations

from django.urls import path

from xueji.reconcile import namechange_views, views

app_name = "reconcile"
urlpatterns = [
    path("", views.reconcile_index, name="index"),
    path("export/", views.reconcile_export, name="export"),
    path("roster/", views.roster, name="roster"),
    path("roster/upload/", views.roster_upload, name="roster_upload"),
    path("roster/jobs/", views.roster_jobs, name="roster_jobs"),
    path("roster/<int:pk>/", views.roster_detail, name="roster_detail"),
    path("roster/entry/<int:pk>/correct/", views.roster_correct, name="roster_correct"),
    path("roster/correction/<int:pk>/evidence/", views.roster_correction_evidence, name="roster_correction_evidence"),
    path("name-changes/", namechange_views.name_change_list, name="name_changes"),
    path("name-changes/new/<int:student_pk>/", namechange_views.name_change_new, name="name_change_new"),
    path("name-changes/<int:pk>/", namechange_views.name_change_detail, name="name_change_detail"),
    path(
        "name-changes/<int:pk>/files/<int:file_pk>/",
        namechange_views.name_change_evidence,
        name="name_change_evidence",
    ),
    path("name-changes/<int:pk>/decide/", namechange_views.name_change_decide, name="name_change_decide"),
]
