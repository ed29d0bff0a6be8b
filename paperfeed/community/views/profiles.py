"""Public profiles, and the owner's own edit and delete pages (owner only)."""

from __future__ import annotations

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from paperfeed.community import accounts, moderation
from paperfeed.community.forms import DeleteAccountForm, ProfileForm, ReasonForm
from paperfeed.community.models import Profile
from paperfeed.community.views.common import refuse
from paperfeed.papers.models import Paper

User = get_user_model()
_SHOWN = 50


def profile(request: HttpRequest, username: str) -> HttpResponse:
    member = get_object_or_404(User.objects.select_related("community_profile"),
                               username=username)
    upvoted = list(Paper.objects.for_listing().filter(votes__user=member)
                   .order_by("-votes__created_at")[:_SHOWN])
    submitted = list(Paper.objects.for_listing().filter(submission__user=member)
                     .order_by("-submission__created_at")[:_SHOWN])
    return render(request, "community/profile.html", {
        "member": member,
        "is_owner": request.user.pk == member.pk,
        "verified": accounts.is_verified(member),
        "upvoted": upvoted,
        "submitted": submitted,
        # The vote buttons on these rows look up the member's votes in one query.
        "vote_scope": upvoted + submitted,
        "can_block": moderation.is_curator(request.user) and request.user.pk != member.pk,
        "reason_form": ReasonForm(),
    })


def _own(request: HttpRequest, username: str):
    """The profile's user if the signed-in member owns it; 403 for anyone else."""
    member = get_object_or_404(User, username=username)
    if member.pk != request.user.pk:
        raise PermissionDenied("This is not your account.")
    return member


@login_required
def edit(request: HttpRequest, username: str) -> HttpResponse:
    member = _own(request, username)
    profile_row, _ = Profile.objects.get_or_create(user=member)
    form = ProfileForm(request.POST or None, instance=profile_row)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("community:profile", member.get_username())
    return render(request, "community/profile_edit.html", {"form": form, "member": member})


@login_required
def delete(request: HttpRequest, username: str) -> HttpResponse:
    member = _own(request, username)
    form = DeleteAccountForm(member, request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth.logout(request)
        accounts.delete_account(member)
        return redirect("community:account_deleted")
    return render(request, "community/profile_delete.html", {"form": form, "member": member})


@require_POST
@login_required
def block(request: HttpRequest, username: str) -> HttpResponse:
    member = get_object_or_404(User, username=username)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refuse(request, "Please give a reason; it goes in the moderation log.")
    try:
        moderation.set_blocked(request.user, member, request.POST.get("block") == "1",
                               form.cleaned_data["reason"])
    except moderation.NotAllowed as exc:
        return refuse(request, str(exc), status=403 if "curator" in str(exc) else 400)
    return redirect("community:profile", member.get_username())
