"""Thumbnail images, named by their content hash, so browsers may keep them for good."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from paperfeed.thumbnails import storage
from paperfeed.thumbnails.models import Thumbnail

# The URL changes whenever the image does, so a copy never goes stale.
CACHE_FOREVER = "public, max-age=31536000, immutable"


@require_safe
def image(request, digest: str):
    path = storage.cache_path(digest)
    if not path.exists():
        # A host that did not render this one (or lost its data directory) rebuilds the
        # file from the database rather than fetching the PDF again.
        image = (Thumbnail.objects.filter(digest=digest, state=Thumbnail.State.DONE)
                 .values_list("image", flat=True).first())
        if not image:
            raise Http404("no such thumbnail")
        path = storage.write_cached(digest, bytes(image))
    response = FileResponse(path.open("rb"), content_type="image/webp")
    response["Cache-Control"] = CACHE_FOREVER
    return response
