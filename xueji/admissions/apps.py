from __future__ import annotations

from django.apps import AppConfig


class AdmissionsConfig(AppConfig):
    name = "xueji.admissions"
    label = "admissions"
    verbose_name = "招生管理"
