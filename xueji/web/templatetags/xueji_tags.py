from __future__ import annotations

from collections.abc import Mapping

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, object] | None, key: str) -> object:
    """``{{ counts|get_item:code }}``: a dict value by a key held in a variable."""
    return (mapping or {}).get(key, "")
