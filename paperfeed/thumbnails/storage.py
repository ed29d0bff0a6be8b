"""Thumbnail files in the data directory: a cache of the images kept in the database."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def directory() -> Path:
    return Path(settings.DATA_DIR) / "thumbnails"


def cache_path(digest: str) -> Path:
    return directory() / digest[:2] / f"{digest}.webp"


def write_cached(digest: str, image: bytes) -> Path:
    """Write the file for ``digest`` atomically: a reader never sees half an image."""
    path = cache_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(image)
    os.replace(partial, path)
    return path
