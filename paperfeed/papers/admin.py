from django.contrib import admin

from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord


class VersionInline(admin.TabularInline):
    model = PaperVersion
    extra = 0


class SourceRecordInline(admin.TabularInline):
    model = SourceRecord
    extra = 0
    readonly_fields = ["source", "original_id", "fetched_at", "content_hash", "upvotes"]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "arxiv_id", "feed_date", "upvotes_imported", "upvotes_local", "status", "featured"]
    list_filter = ["status", "featured", "feed_date"]
    search_fields = ["title", "arxiv_id", "slug"]
    date_hierarchy = "feed_date"
    filter_horizontal = ["categories"]
    raw_id_fields = ["primary_category"]
    inlines = [VersionInline, SourceRecordInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "archive", "active"]
    search_fields = ["code", "name"]
