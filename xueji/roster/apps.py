from __future__ import annotations

from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "xueji.roster"
    label = "roster"
    verbose_name = "新生名单与上报盘"
