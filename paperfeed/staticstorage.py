"""Static files with content hashes in their names, compressed, cached "forever".

`paperfeed serve` runs collectstatic first, so whitenoise serves hashed, pre-compressed
(gzip, and Brotli when installed) files with ``Cache-Control: max-age=315360000,
immutable``. Where nothing was collected (tests, `serve --dev`, a fresh checkout), names
stay unhashed and whitenoise serves the app folders' files with a short max-age.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: the finders serve it under its own name
            return name
