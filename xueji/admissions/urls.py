from __future__ import annotations

from django.urls import path

from xueji.admissions import views

app_name = "admissions"
urlpatterns = [
    path("", views.index, name="index"),
    path("records/new/", views.record_add, name="add"),
    path("records/form-refresh/", views.record_form_refresh, name="form_refresh"),
    path("records/<int:pk>/", views.record_detail, name="detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="edit"),
    path("records/<int:pk>/delete/", views.record_delete, name="delete"),
    path("template.xlsx", views.template_download, name="template"),
    path("import/", views.import_page, name="import"),
    path("import/upload/", views.import_upload, name="import_upload"),
    path("import/jobs/", views.import_jobs, name="import_jobs"),
    path("import/jobs/<int:pk>/failures.xlsx", views.import_failures, name="import_failures"),
    path("import/jobs/<int:pk>/rerun/", views.import_rerun, name="import_rerun"),
    path("precheck/", views.precheck, name="precheck"),
    path("precheck/<slug:token>/annotated.xlsx", views.precheck_annotated, name="precheck_annotated"),
]
