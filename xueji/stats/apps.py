from __future__ import annotations

from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "xueji.stats"
    label = "stats"
    verbose_name = "统计查询"
