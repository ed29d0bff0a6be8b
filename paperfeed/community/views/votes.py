from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from paperfeed.community.views.common import back, participation_refusal, refuse, wants_json
from paperfeed.community.votes import set_vote, total_upvotes
from paperfeed.papers.models import Paper


@require_POST
def vote(request: HttpRequest, paper_id: int) -> HttpResponse:
    """Set the member's vote: ``vote=1`` to upvote, ``vote=0`` to take it back."""
    paper = get_object_or_404(Paper.objects.visible(), pk=paper_id)
    if not request.user.is_authenticated:
        if wants_json(request):
            return JsonResponse({"error": "Sign in to upvote."}, status=401)
        return redirect_to_login(paper.get_absolute_url())
    wish = request.POST.get("vote")
    if wish not in {"0", "1"}:
        return refuse(request, "A vote is 1 (upvote) or 0 (take the upvote back).")
    if refused := participation_refusal(request, "votes"):
        return refused
    up = wish == "1"
    set_vote(request.user, paper, up)
    if wants_json(request):
        return JsonResponse({"voted": up, "upvotes": total_upvotes(paper)})
    return back(request, paper.get_absolute_url())
