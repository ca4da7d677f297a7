from __future__ import annotations

from django.urls import path

from xueji.campaigns import filed_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/files/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/files/<int:file_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/files/<int:file_pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("<int:pk>/reads/", views.reads, name="reads"),
    path("<int:pk>/materials/", views.checklist, name="checklist"),
    path("<int:pk>/materials/school/<int:school_pk>/", views.school_receive, name="school_receive"),
    path("<int:pk>/materials/district/<int:district_pk>/", views.district_receive, name="district_receive"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/report.<str:fmt>", views.report, name="report"),
    path("<int:pk>/filed/", filed_views.filed_list, name="filed"),
]
