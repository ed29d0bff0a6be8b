"""What curators can do. Every action runs in one transaction with its log entry."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from paperfeed.community import comments
from paperfeed.community.models import Comment, ModerationAction
from paperfeed.papers import changelog, trending
from paperfeed.papers.models import Paper

Kind = ModerationAction.Kind
MODERATE = "community.moderate"
CURATOR_GROUP = "curator"
BACKEND = "paperfeed.community.signin.LimitedModelBackend"


class NotAllowed(Exception):
    """The action makes no sense or the actor may not do it; the message says why."""


def is_curator(user: AbstractBaseUser) -> bool:
    """Whether ``user`` may moderate: ``user.has_perm(MODERATE)`` (two queries through
    the ORM), in one plain query when the user table is the only place permissions come
    from; asked once per request's user."""
    if not user.is_authenticated:
        return False
    known = getattr(user, "_pf_curator", None)
    if known is None:
        if list(settings.AUTHENTICATION_BACKENDS) != [BACKEND]:
            known = user.has_perm(MODERATE)
        else:  # ModelBackend's rule
            known = user.is_active and (user.is_superuser or _holds_moderate(user.pk))
        user._pf_curator = known
    return known


def _holds_moderate(user_id: int) -> bool:
    """Whether the user holds MODERATE directly or through one of their groups."""
    users = get_user_model()
    direct, groups = users.user_permissions.through, users.groups.through
    group_perms = Group.permissions.through
    app_label, codename = MODERATE.split(".")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT 1 FROM {Permission._meta.db_table} p
              JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
             WHERE p.codename = %s AND ct.app_label = %s
               AND (p.id IN (SELECT permission_id FROM {direct._meta.db_table}
                              WHERE user_id = %s)
                    OR p.id IN (SELECT gp.permission_id FROM {group_perms._meta.db_table} gp
                                  JOIN {groups._meta.db_table} ug ON ug.group_id = gp.group_id
                                 WHERE ug.user_id = %s))
             LIMIT 1""", [codename, app_label, user_id, user_id])
        return cursor.fetchone() is not None


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
