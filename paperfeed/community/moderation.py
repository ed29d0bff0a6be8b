"""What curators can do. Every action runs in one transaction with its log entry."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from paperfeed.community import comments
from paperfeed.community.models import Comment, ModerationAction
from paperfeed.papers import changelog, trending
from paperfeed.papers.models import Paper

Kind = ModerationAction.Kind
MODERATE = "community.moderate"
CURATOR_GROUP = "curator"


class NotAllowed(Exception):
    """The action makes no sense or the actor may not do it; the message says why."""


def is_curator(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.has_perm(MODERATE)


def _log(actor, kind: str, reason: str, target: str, **subjects) -> ModerationAction:
    return ModerationAction.objects.create(
        actor=actor, actor_name=actor.get_username(), kind=kind, reason=reason,
        target=target[:300], **subjects,
    )


def _need(actor, reason: str) -> str:
    if not is_curator(actor):
        raise NotAllowed("Only curators can moderate.")
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed("Please give a reason; it goes in the moderation log.")
    return reason


_PAPER_ACTIONS = {
    Kind.FEATURE: {"featured": True},
    Kind.UNFEATURE: {"featured": False},
    Kind.HIDE_PAPER: {"status": Paper.Status.HIDDEN},
    Kind.WITHDRAW_PAPER: {"status": Paper.Status.WITHDRAWN},
    Kind.RESTORE_PAPER: {"status": Paper.Status.VISIBLE},
}


def moderate_paper(actor, paper: Paper, kind: str, reason: str) -> ModerationAction:
    reason = _need(actor, reason)
    if kind not in _PAPER_ACTIONS:
        raise NotAllowed(f"Unknown action {kind!r} for a paper.")
    changes = _PAPER_ACTIONS[kind]
    if all(getattr(paper, name) == value for name, value in changes.items()):
        raise NotAllowed("The paper is already in that state.")
    with transaction.atomic():
        Paper.objects.filter(pk=paper.pk).update(**changes)
        changelog.record([paper.pk])
        for name, value in changes.items():
            setattr(paper, name, value)
        transaction.on_commit(lambda: trending.rescore([paper.pk]))
        return _log(actor, kind, reason, paper.title, paper=paper)


def moderate_comment(actor, comment: Comment, hide: bool, reason: str) -> ModerationAction:
    reason = _need(actor, reason)
    with transaction.atomic():
        if not comments.set_hidden(comment, hide, reason):
            raise NotAllowed("The comment is already in that state.")
        kind = Kind.HIDE_COMMENT if hide else Kind.RESTORE_COMMENT
        return _log(actor, kind, reason, f"comment {comment.pk} on {comment.paper_id}",
                    comment=comment, paper_id=comment.paper_id)


def set_blocked(actor, subject: AbstractBaseUser, block: bool, reason: str) -> ModerationAction:
    """Blocking deactivates the account: its sessions stop working and it cannot sign in."""
    reason = _need(actor, reason)
    if subject.pk == actor.pk:
        raise NotAllowed("You cannot block yourself.")
    if subject.is_staff and not actor.is_superuser:
        raise NotAllowed("Only an administrator can block a staff account.")
    if subject.is_active != block:
        raise NotAllowed("The account is already " + ("blocked." if block else "active."))
    with transaction.atomic():
        get_user_model().objects.filter(pk=subject.pk).update(is_active=not block)
        subject.is_active = not block
        kind = Kind.BLOCK_USER if block else Kind.UNBLOCK_USER
        return _log(actor, kind, reason, subject.get_username(), subject_user=subject)
