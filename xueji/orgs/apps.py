from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "xueji.orgs"
    label = "orgs"
    verbose_name = "组织与账号"
