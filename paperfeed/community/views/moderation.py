from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from paperfeed.community import moderation
from paperfeed.community.forms import ReasonForm
from paperfeed.community.models import Comment, ModerationAction
from paperfeed.community.views.common import back, refuse
from paperfeed.papers.models import Paper

_SHOWN = 100


def _curator(request: HttpRequest) -> None:
    if not moderation.is_curator(request.user):
        raise PermissionDenied("Only curators can see this.")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The log, and what is hidden now (hidden papers have no public page to restore from)."""
    _curator(request)
    return render(request, "community/moderation.html", {
        "actions": ModerationAction.objects.select_related("paper", "subject_user")[:_SHOWN],
        "hidden_papers": Paper.objects.exclude(status=Paper.Status.VISIBLE)
                                      .order_by("-updated_at")[:_SHOWN],
        "hidden_comments": Comment.objects.filter(hidden=True).select_related("paper", "author")
                                          .order_by("-pk")[:_SHOWN],
        "reason_form": ReasonForm(),
    })


@require_POST
@login_required
def paper_action(request: HttpRequest, pk: int) -> HttpResponse:
    _curator(request)
    paper = get_object_or_404(Paper, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refuse(request, "Please give a reason; it goes in the moderation log.")
    try:
        moderation.moderate_paper(request.user, paper, request.POST.get("kind", ""),
                                  form.cleaned_data["reason"])
    except moderation.NotAllowed as exc:
        return refuse(request, str(exc))
    if paper.status != Paper.Status.VISIBLE:
        return redirect("community:moderation")
    return back(request, paper.get_absolute_url())
