from __future__ import annotations

from django.urls import path

from xueji.orgs import views

app_name = "orgs"
urlpatterns = [
    path("districts/", views.district_list, name="district_list"),
    path("schools/", views.school_list, name="school_list"),
    path("schools/new/", views.school_edit, name="school_create"),
    path("schools/<int:pk>/", views.school_detail, name="school_detail"),
    path("schools/<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("school/", views.my_school, name="my_school"),
    path("school/majors/", views.offering_list, name="offering_list"),
    path("school/majors/<int:pk>/remove/", views.offering_remove, name="offering_remove"),
    path("school/majors/<int:pk>/directions/", views.direction_add, name="direction_add"),
    path("school/directions/<int:pk>/remove/", views.direction_remove, name="direction_remove"),
    path("school/grades/", views.grade_list, name="grade_list"),
    path("school/grades/<int:pk>/remove/", views.grade_remove, name="grade_remove"),
    path("school/classes/", views.class_list, name="class_list"),
    path("school/classes/new/", views.class_edit, name="class_create"),
    path("school/classes/<int:pk>/edit/", views.class_edit, name="class_edit"),
    path("school/classes/<int:pk>/remove/", views.class_remove, name="class_remove"),
    path("school/terms/", views.term_list, name="term_list"),
    path("school/terms/new/", views.term_edit, name="term_create"),
    path("school/terms/<int:pk>/edit/", views.term_edit, name="term_edit"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/issue/", views.account_issue, name="account_issue"),
    path("accounts/issued/", views.account_issued, name="account_issued"),
    path("accounts/issued/sheet.xlsx", views.account_sheet, name="account_sheet"),
    path("accounts/<int:pk>/toggle/", views.account_toggle, name="account_toggle"),
    path("accounts/<int:pk>/reset/", views.account_reset, name="account_reset"),
]
