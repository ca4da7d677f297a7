from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "xueji.ops"
    label = "ops"
    verbose_name = "运维"
