from __future__ import annotations

from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "xueji.reference"
    label = "reference"
    verbose_name = "参考数据"
