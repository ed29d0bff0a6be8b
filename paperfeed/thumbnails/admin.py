from __future__ import annotations

from django.contrib import admin

from paperfeed.thumbnails.models import Thumbnail


@admin.register(Thumbnail)
class ThumbnailAdmin(admin.ModelAdmin):
    """Filter by state "Failed" to see why papers show a card; delete a row to retry it."""

    list_display = ["paper", "state", "attempts", "next_attempt_at", "reason", "updated_at"]
    list_filter = ["state"]
    search_fields = ["paper__arxiv_id", "paper__title", "reason"]
    raw_id_fields = ["paper"]
    exclude = ["image"]
    readonly_fields = ["digest", "width", "height", "pdf_size", "source_url", "claimed_by",
                       "lease_until"]
