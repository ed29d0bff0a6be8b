from __future__ import annotations

from django.contrib import admin, messages

from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.sender import resolve_in_doubt


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "cadence", "send_hour", "time_zone", "next_send_at", "seen_through"]
    list_filter = ["status", "cadence"]
    search_fields = ["email"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at", "next_send_at", "seen_through"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Filter by state "In doubt" to see what needs an operator; settle with the two actions."""

    list_display = ["pk", "subscriber", "edition", "state", "attempts", "sending_at", "message_id",
                    "finished_at", "last_error"]
    list_filter = ["state", "edition"]
    search_fields = ["subscriber__email", "message_id"]
    list_select_related = ["subscriber"]
    raw_id_fields = ["subscriber"]
    actions = ["mark_sent", "resend"]
    readonly_fields = [f.name for f in Delivery._meta.fields if f.name != "resolution"]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-sending_at")

    def _resolve(self, request, queryset, outcome: str) -> None:
        done = 0
        for delivery in queryset.filter(state=Delivery.State.IN_DOUBT):
            resolve_in_doubt(delivery.pk, outcome, f"{request.user}: {outcome}")
            done += 1
        skipped = queryset.count() - done
        self.message_user(request, f"{done} in-doubt digest(s) settled as {outcome}"
                          + (f"; {skipped} not in doubt left alone" if skipped else ""),
                          messages.SUCCESS if not skipped else messages.WARNING)

    @admin.action(description="In doubt → it was delivered (mark sent)")
    def mark_sent(self, request, queryset):
        self._resolve(request, queryset, "sent")

    @admin.action(description="In doubt → it was not delivered (send again)")
    def resend(self, request, queryset):
        self._resolve(request, queryset, "resend")
