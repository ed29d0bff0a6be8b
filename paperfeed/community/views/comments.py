from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from paperfeed.community import comments, moderation
from paperfeed.community.forms import CommentForm, ReasonForm
from paperfeed.community.models import Comment
from paperfeed.community.views.common import participation_refusal, refuse
from paperfeed.papers.models import Paper


def _anchor(comment: Comment) -> str:
    return f"{comment.paper.get_absolute_url()}#comment-{comment.pk}"


@require_POST
def new(request: HttpRequest, paper_id: int) -> HttpResponse:
    paper = get_object_or_404(Paper.objects.visible(), pk=paper_id)
    if not request.user.is_authenticated:
        return redirect_to_login(paper.get_absolute_url() + "#comments")
    form = CommentForm(request.POST)
    if not form.is_valid():
        return render(request, "community/comment_form.html",
                      {"form": form, "paper": paper}, status=400)
    parent = None
    if form.cleaned_data.get("parent"):
        parent = Comment.objects.filter(pk=form.cleaned_data["parent"], paper=paper).first()
        if parent is None:
            return refuse(request, "The comment you replied to is not on this paper.")
    if refused := participation_refusal(request, "comments"):
        return refused
    comment = comments.post_comment(request.user, paper, form.cleaned_data["body"], parent)
    return redirect(_anchor(comment))


def _own_comment(request: HttpRequest, pk: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("You can only change your own comments.")
    if not comment.shown:
        raise PermissionDenied("This comment was hidden or deleted and cannot be changed.")
    return comment


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    form = CommentForm(request.POST or None, instance=comment)
    if request.method == "POST" and form.is_valid():
        comments.edit_comment(comment, form.cleaned_data["body"])
        return redirect(_anchor(comment))
    return render(request, "community/comment_form.html",
                  {"form": form, "paper": comment.paper, "comment": comment})


@require_POST
@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    comments.delete_comment(comment)
    return redirect(_anchor(comment))


@require_POST
@login_required
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    if not moderation.is_curator(request.user):
        raise PermissionDenied("Only curators can hide comments.")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refuse(request, "Please give a reason; it goes in the moderation log.")
    try:
        moderation.moderate_comment(request.user, comment, request.POST.get("hide") == "1",
                                    form.cleaned_data["reason"])
    except moderation.NotAllowed as exc:
        return refuse(request, str(exc))
    return redirect(_anchor(comment))
