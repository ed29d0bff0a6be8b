"""Posting, editing, deleting and moderating comments, with the paper's counter kept right.

``Paper.comments_local`` counts the comments everyone can see (not hidden, not deleted);
every change of that state moves the counter with F() in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from paperfeed.community.models import Comment
from paperfeed.lib.markdown import render_markdown
from paperfeed.papers.models import Paper

MAX_DEPTH = 6  # deeper replies are shown at this indent, still in order


def _count(paper_id: int, delta: int) -> None:
    Paper.objects.filter(pk=paper_id).update(comments_local=F("comments_local") + delta)


def post_comment(author: AbstractBaseUser, paper: Paper, body: str,
                 parent: Comment | None = None) -> Comment:
    if parent is not None and parent.paper_id != paper.pk:
        raise ValueError("a reply must be on the same paper as its parent")
    with transaction.atomic():
        comment = Comment.objects.create(paper=paper, author=author, parent=parent, body=body,
                                         body_html=render_markdown(body))
        _count(paper.pk, 1)
    return comment


def edit_comment(comment: Comment, body: str) -> None:
    comment.body, comment.body_html = body, render_markdown(body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "edited_at"])


def delete_comment(comment: Comment) -> None:
    """Blank the comment but keep its place, so replies stay in their thread."""
    with transaction.atomic():
        was_shown = comment.shown
        comment.deleted, comment.body, comment.body_html = True, "", ""
        comment.save(update_fields=["deleted", "body", "body_html"])
        if was_shown:
            _count(comment.paper_id, -1)


def set_hidden(comment: Comment, hidden: bool, reason: str) -> bool:
    """Hide or restore; True if the state changed. Callers log the moderation action."""
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if locked.hidden == hidden:
            return False
        was_shown = locked.shown
        locked.hidden, locked.hidden_reason = hidden, reason if hidden else ""
        locked.save(update_fields=["hidden", "hidden_reason"])
        if was_shown != locked.shown:
            _count(locked.paper_id, 1 if locked.shown else -1)
    comment.hidden, comment.hidden_reason = locked.hidden, locked.hidden_reason
    return True


@dataclass
class Node:
    comment: Comment
    depth: int
    children: list[Node] = field(default_factory=list)


def thread(paper: Paper) -> list[Node]:
    """The paper's comments as a tree of nodes, oldest first at each level, in one query."""
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for comment in Comment.objects.filter(paper=paper).select_related("author"):
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        node = Node(comment, min(parent.depth + 1, MAX_DEPTH) if parent else 0)
        nodes[comment.pk] = node
        (parent.children if parent else roots).append(node)
    return roots
