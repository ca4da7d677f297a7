from __future__ import annotations

from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "xueji.reconcile"
    label = "reconcile"
    verbose_name = "录取名册核对与改名"
