"""The private folders under MEDIA_ROOT (uploads, evidence, generated files holding personal data). Never served
as static files: every download goes through a view that applies the scope. `xueji backup` carries all of them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def private_dir(name: str) -> Path:
    """MEDIA_ROOT/``name``, made on first use."""
    folder = Path(settings.MEDIA_ROOT) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
