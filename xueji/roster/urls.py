from __future__ import annotations

from django.urls import path

from xueji.roster import views

app_name = "roster"
urlpatterns = [
    path("", views.roster_form, name="print"),
    path("school/<int:pk>/pdf/", views.roster_pdf, name="pdf"),
    path("package/", views.package_export, name="package"),
    path("package/jobs/", views.package_jobs, name="package_jobs"),
    path("package/jobs/<int:pk>/file/", views.package_job_download, name="package_job_download"),
    path("inbox/", views.package_inbox, name="inbox"),
    path("inbox/<int:pk>/file/", views.package_download, name="package_download"),
]
