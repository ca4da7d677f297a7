from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "xueji.campaigns"
    label = "campaigns"
    verbose_name = "年度学籍备案工作"
