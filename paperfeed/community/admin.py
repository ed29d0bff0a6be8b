"""Django admin for staff. Curators work from the site itself (paper page, profiles,
/moderation/); hiding comments from the admin goes through the same logged code."""

from __future__ import annotations

from django.contrib import admin, messages

from paperfeed.community import moderation
from paperfeed.community.models import Comment, ModerationAction, Profile, Submission, Vote


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "kind", "target", "reason"]
    list_filter = ["kind"]
    search_fields = ["actor_name", "target", "reason"]
    date_hierarchy = "created_at"

    # The log is evidence: nobody edits or deletes it, not even staff.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["pk", "paper", "author", "created_at", "hidden", "deleted"]
    list_filter = ["hidden", "deleted"]
    search_fields = ["body", "author__username", "paper__title"]
    raw_id_fields = ["paper", "author", "parent"]
    readonly_fields = ["body_html", "hidden", "hidden_reason", "deleted"]
    actions = ["hide_as_spam"]

    @admin.action(description="Hide the selected comments as spam (logged)")
    def hide_as_spam(self, request, queryset):
        done = 0
        for comment in queryset.filter(hidden=False, deleted=False):
            moderation.moderate_comment(request.user, comment, True, "spam (admin)")
            done += 1
        self.message_user(request, f"Hid {done} comments.", messages.SUCCESS)


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "created_at"]
    raw_id_fields = ["user", "paper"]
    search_fields = ["user__username", "paper__title"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "feed_date", "created_at"]
    raw_id_fields = ["user", "paper"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "email_verified_at"]
    raw_id_fields = ["user"]
    search_fields = ["user__username", "user__email"]
