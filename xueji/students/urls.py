from __future__ import annotations

from django.urls import path

from xueji.students import views

app_name = "students"
urlpatterns = [
    path("checkin/", views.checkin, name="checkin"),
    path("", views.student_list, name="list"),
    path("action/", views.student_action, name="action"),
    path("<int:pk>/", views.student_detail, name="detail"),
    path("<int:pk>/edit/", views.student_edit, name="edit"),
    path("batch/", views.student_batch, name="batch"),
    path("export/", views.student_export, name="export"),
    path("export/jobs/", views.export_jobs, name="export_jobs"),
    path("export/<int:pk>/download/", views.export_download, name="export_download"),
    path("review/", views.review, name="review"),
    path("status/", views.status, name="status"),
    path("archive/", views.archive, name="archive"),
]
